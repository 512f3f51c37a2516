package launch

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// RecvFd receives one fd sent with SCM_RIGHTS (the console master).
func RecvFd(sock *os.File) (*os.File, error) {
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), name, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, err
	}
	fd, ok := oneFd(oob[:oobn])
	if !ok {
		return nil, errors.New("no fd in the message")
	}
	return os.NewFile(uintptr(fd), string(name[:n])), nil
}

// oneFd is the one fd a message's control data carries (SCM_RIGHTS).
func oneFd(oob []byte) (int, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return -1, false
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return -1, false
	}
	return fds[0], true
}
