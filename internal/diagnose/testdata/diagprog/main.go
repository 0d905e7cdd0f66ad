// Command diagprog is the program the diagnose tests run: one binary whose
// first argument says how to behave.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: diagprog mode [args]")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "ok":
		fmt.Println("all good")
		fmt.Println("second line")
	case "fail":
		fmt.Fprintln(os.Stderr, "something broke")
		os.Exit(3)
	case "hang":
		hang(args)
	case "hang-child":
		time.Sleep(time.Hour)
	case "flood":
		line := append(bytes.Repeat([]byte("x"), 64<<10-1), '\n')
		for range 800 { // 50 MiB
			if _, err := os.Stdout.Write(line); err != nil {
				os.Exit(1)
			}
		}
	case "secret":
		fmt.Println("token:", os.Getenv("KLAXON_TEST_TOKEN"))
		fmt.Println("Authorization: Bearer abc.DEF-123_xyz")
		fmt.Println("password=hunter2hunter2")
		fmt.Print(pem)
		for _, a := range args {
			fmt.Println("arg:", a)
		}
	case "binary":
		os.Stdout.Write([]byte("nul\x00byte \xff\xfe end\n"))
	case "env":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
	case "args":
		for _, a := range args {
			fmt.Printf("%q\n", a)
		}
	case "sleep":
		sleep(args)
	case "delete", "touch":
		// Proves a run by leaving a file behind.
		if err := os.WriteFile(args[0], []byte("ran\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}

// hang starts a grandchild that shares stdout, writes its pid to args[0]
// and sleeps: only killing the whole process group ends both.
func hang(args []string) {
	self, err := os.Executable()
	if err != nil {
		os.Exit(1)
	}
	child := exec.Command(self, "hang-child")
	child.Stdout, child.Stderr = os.Stdout, os.Stderr
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(args) > 0 {
		writeAtomic(args[0], strconv.Itoa(child.Process.Pid))
	}
	fmt.Println("hanging")
	time.Sleep(time.Hour)
}

// sleep sleeps args[0] milliseconds and records when it ran in a file of
// directory args[1]: "start end" in Unix nanoseconds.
func sleep(args []string) {
	start := time.Now()
	ms, _ := strconv.Atoi(args[0])
	time.Sleep(time.Duration(ms) * time.Millisecond)
	end := time.Now()
	writeAtomic(filepath.Join(args[1], strconv.Itoa(os.Getpid())), fmt.Sprintf("%d %d", start.UnixNano(), end.UnixNano()))
}

func writeAtomic(path, content string) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		os.Exit(1)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Exit(1)
	}
}

const pem = `-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAtestkeymaterialONE
testkeymaterialTWO
-----END RSA PRIVATE KEY-----
`
