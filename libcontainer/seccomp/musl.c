/*
 * Building against musl (make's default when musl-gcc is installed): the
 * Debian libseccomp.a is compiled for glibc with _FORTIFY_SOURCE, and its
 * filter printer (seccomp_export_pfc, which oci-rt never calls) refers to
 * glibc's checked fprintf. musl has no such symbol; give it one.
 */
#include <stdio.h>
#if !defined(__GLIBC__)
#include <stdarg.h>

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	(void)flag;
	va_list ap;
	va_start(ap, fmt);
	int r = vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}
#endif
