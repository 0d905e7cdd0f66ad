package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client kinds: how requests are sent.
const (
	// ClientRaw writes each request's bytes straight to a keep-alive
	// connection and parses the answer with http.ReadResponse: a third of
	// net/http's CPU per request, which on the server's own machine is CPU
	// the server keeps. HTTP/1.1 only.
	ClientRaw = "raw"
	// ClientStd is net/http's Client and Transport.
	ClientStd = "std"
)

// rawConn is one worker's keep-alive HTTP/1.1 connection. It is not safe
// for concurrent use: each worker has its own.
type rawConn struct {
	ctx     context.Context
	addr    string
	tls     *tls.Config // nil for http
	timeout time.Duration
	head    []byte // request line and headers up to the Content-Length value

	conn      net.Conn
	br        *bufio.Reader
	stopWatch func() bool
}

func newRawConn(ctx context.Context, target, token string, timeout time.Duration) (*rawConn, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	c := &rawConn{ctx: ctx, addr: u.Host, timeout: timeout}
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		c.addr = net.JoinHostPort(u.Hostname(), port)
	}
	if u.Scheme == "https" {
		c.tls = &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}}
	}
	path := u.RequestURI()
	c.head = []byte("POST " + path + " HTTP/1.1\r\n" +
		"Host: " + u.Host + "\r\n" +
		"User-Agent: klaxon-bench\r\n" +
		"Authorization: Bearer " + token + "\r\n" +
		"Content-Type: application/json\r\n" +
		"Content-Length: ")
	return c, nil
}

func (c *rawConn) dial() error {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	var (
		conn net.Conn
		err  error
	)
	if c.tls != nil {
		conn, err = (&tls.Dialer{NetDialer: d, Config: c.tls}).DialContext(c.ctx, "tcp", c.addr)
	} else {
		conn, err = d.DialContext(c.ctx, "tcp", c.addr)
	}
	if err != nil {
		return err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	c.conn = conn
	if c.br == nil {
		c.br = bufio.NewReaderSize(conn, 32<<10)
	} else {
		c.br.Reset(conn)
	}
	// Cancelling the run unblocks a request in flight.
	c.stopWatch = context.AfterFunc(c.ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

func (c *rawConn) close() {
	if c.conn != nil {
		c.stopWatch()
		c.conn.Close()
		c.conn = nil
	}
}

// post sends one body and reads the whole answer. A failed request closes
// the connection; the next one dials again. Requests are never retried: the
// server may have committed one that failed on the way back.
func (c *rawConn) post(body []byte) (status int, sample string, d time.Duration, err error) {
	start := time.Now()
	defer func() {
		d = time.Since(start)
		if err != nil {
			c.close()
			if c.ctx.Err() != nil {
				err = c.ctx.Err()
			}
		}
	}()
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return 0, "", 0, err
		}
	}
	c.conn.SetDeadline(start.Add(c.timeout))
	var cl [20]byte
	head := append(strconv.AppendInt(cl[:0], int64(len(body)), 10), "\r\n\r\n"...)
	bufs := net.Buffers{c.head, head, body}
	if _, err := bufs.WriteTo(c.conn); err != nil {
		return 0, "", 0, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, "", 0, err
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		sample = strings.TrimSpace(string(b))
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, "", 0, err
	}
	resp.Body.Close()
	if resp.Close {
		c.close()
	}
	return resp.StatusCode, sample, 0, nil
}
