//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package cli

import (
	"bufio"
	"context"
	"errors"
	"os"

	"github.com/mattn/go-isatty"
)

func isTerminal(f *os.File) bool { return isatty.IsTerminal(f.Fd()) }

func readHidden(context.Context, *os.File, *bufio.Reader) (string, error) {
	return "", errors.New("cannot ask for a password without echo here: pipe it in with --password-stdin")
}
