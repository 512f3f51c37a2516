package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs lets a command's flags follow its arguments, as runc's CLI
// (urfave/cli v1) does and scripts written for it expect:
// `update ID --memory 1M`, `delete ID --force`. urfave/cli v2 stops at the
// first argument, so the flags are moved before the arguments; "--" ends
// the flags. ps is left alone (what follows the id is ps's own options),
// and exec takes its flags up to the command only: `exec ID --env X=1 sh
// -c ...` (where runc would run "--env").
func reorderArgs(app *cli.App, args []string) []string {
	i := 1 + skipFlags(app.Flags, args[1:])
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil || cmd.Name == "ps" {
		return args
	}
	head := append([]string(nil), args[:i+1]...)
	rest := args[i+1:]
	if cmd.Name == "exec" {
		return append(head, reorderExec(cmd.Flags, rest)...)
	}
	var flags, plain, tail []string
	for k := 0; k < len(rest); k++ {
		a := rest[k]
		switch {
		case a == "--":
			tail = rest[k:]
			k = len(rest)
		case isFlag(a):
			flags = append(flags, a)
			if takesValue(cmd.Flags, a) && k+1 < len(rest) {
				k++
				flags = append(flags, rest[k])
			}
		default:
			plain = append(plain, a)
		}
	}
	out := append(head, flags...)
	if len(tail) > 0 {
		// the arguments after "--" stay arguments, even "-9"
		return append(append(append(out, "--"), plain...), tail[1:]...)
	}
	return append(out, plain...)
}

// reorderExec moves exec's flags between the container id and the
// command before the id; "--" there ends them (and is dropped).
func reorderExec(fl []cli.Flag, rest []string) []string {
	n := skipFlags(fl, rest)
	if n >= len(rest) {
		return rest
	}
	lead, id, after := rest[:n], rest[n], rest[n+1:]
	m := skipFlags(fl, after)
	out := append(append(append([]string(nil), lead...), after[:m]...), id)
	tail := after[m:]
	if len(tail) > 0 && tail[0] == "--" {
		tail = tail[1:]
	}
	return append(out, tail...)
}

// skipFlags counts the leading flags of args (with their values).
func skipFlags(fl []cli.Flag, args []string) int {
	k := 0
	for k < len(args) && isFlag(args[k]) {
		if takesValue(fl, args[k]) {
			k++
		}
		k++
	}
	return min(k, len(args))
}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' && a != "--" }

// takesValue tells whether the flag a (given without "=value") takes the
// next argument as its value: every flag but a boolean one.
func takesValue(fl []cli.Flag, a string) bool {
	if strings.Contains(a, "=") {
		return false
	}
	name := strings.TrimLeft(a, "-")
	for _, f := range fl {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return name != "help" && name != "h"
}
