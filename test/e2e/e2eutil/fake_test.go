package e2eutil

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a fake berth and a fake berthctl, so that the helpers are tested
// against real processes, real signals and real ports: with E2EUTIL_FAKE=server or ctl in its
// environment it plays that part instead of running the tests.
func TestMain(m *testing.M) {
	switch os.Getenv("E2EUTIL_FAKE") {
	case "server":
		os.Exit(fakeServer(os.Args[1:]))
	case "ctl":
		os.Exit(fakeCtl(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeServer is `berth server` as far as StartServer can tell: it listens on --grpc-addr,
// serves /readyz on --http-addr, appends a line to <data-dir>/starts on every start and exits 0
// on SIGTERM. Flags make it misbehave.
func fakeServer(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "fake server: no role")
		return 2
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dataDir := fs.String("data-dir", "", "")
	grpcAddr := fs.String("grpc-addr", "", "")
	httpAddr := fs.String("http-addr", "", "")
	failStart := fs.Bool("fail-start", false, "exit 3 at once")
	notReady := fs.Bool("not-ready", false, "answer /readyz 503 forever")
	ignoreTerm := fs.Bool("ignore-term", false, "ignore SIGTERM")
	termExit := fs.Int("term-exit", 0, "exit status on SIGTERM")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *failStart {
		fmt.Println("fake server: failing as asked")
		return 3
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM)
	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	}
	if *dataDir != "" {
		if err := os.MkdirAll(*dataDir, 0o755); err != nil {
			fmt.Println(err)
			return 1
		}
		f, err := os.OpenFile(filepath.Join(*dataDir, "starts"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		_, _ = fmt.Fprintln(f, "started")
		_ = f.Close()
	}
	grpcLn, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		fmt.Println("fake server:", err)
		return 1
	}
	go func() {
		for {
			c, err := grpcLn.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	httpLn, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		fmt.Println("fake server:", err)
		return 1
	}
	started := time.Now()
	go func() {
		_ = http.Serve(httpLn, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/readyz" || *notReady || time.Since(started) < 200*time.Millisecond {
				http.Error(w, "not ready", http.StatusServiceUnavailable)
				return
			}
			_, _ = io.WriteString(w, "ok")
		}))
	}()
	fmt.Println("fake server: listening")
	<-signals
	fmt.Println("fake server: received SIGTERM")
	return *termExit
}

// fakeCtl echoes its arguments and standard input; "fail" makes it exit 4, "watch" makes it
// print two lines and wait to be killed.
func fakeCtl(args []string) int {
	fmt.Printf("args: %q\n", args)
	switch {
	case slices.Contains(args, "fail"):
		fmt.Fprintln(os.Stderr, "boom")
		return 4
	case slices.Contains(args, "watch"):
		fmt.Println("line1")
		time.Sleep(100 * time.Millisecond)
		fmt.Println("line2")
		time.Sleep(time.Hour)
	}
	in, _ := io.ReadAll(os.Stdin)
	fmt.Printf("stdin: %q\n", in)
	return 0
}
