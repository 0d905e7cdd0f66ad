//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cli

import (
	"bufio"
	"context"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"golang.org/x/sys/unix"
)

func isTerminal(f *os.File) bool { return isatty.IsTerminal(f.Fd()) }

// readHidden reads a line from the terminal f with echo off. Interrupted
// (ctx canceled by Ctrl-C), it gives up at once; echo comes back either way.
func readHidden(ctx context.Context, f *os.File, in *bufio.Reader) (string, error) {
	fd := int(f.Fd())
	saved, err := unix.IoctlGetTermios(fd, getTermios)
	if err != nil {
		return "", err
	}
	quiet := *saved
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, setTermios, &quiet); err != nil {
		return "", err
	}
	defer unix.IoctlSetTermios(fd, setTermios, saved)
	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		line, err := in.ReadString('\n')
		done <- result{strings.TrimRight(line, "\r\n"), err}
	}()
	select {
	case r := <-done:
		if r.line != "" {
			return r.line, nil
		}
		return "", r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
