package testapp

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// DefaultPort is the HTTP port used when $PORT is not set.
const DefaultPort = "8080"

// Config is what the server needs to know; ConfigFromEnv builds it from the environment.
type Config struct {
	// HTTPAddr is the TCP address the HTTP server listens on, e.g. ":8080".
	HTTPAddr string
	// UDPAddr is the UDP address of the echo server; empty disables it.
	UDPAddr string
	// Hostname is reported by GET /.
	Hostname string
	// Environ is the environment reported by GET /, as "KEY=value" strings.
	Environ []string
	// ShutdownDelay is how long the server keeps serving after SIGTERM before it exits.
	ShutdownDelay time.Duration
}

// ConfigFromEnv reads PORT, UDP_PORT and SHUTDOWN_DELAY through getenv. hostname and environ
// are reported as they are given.
func ConfigFromEnv(getenv func(string) string, hostname string, environ []string) (Config, error) {
	cfg := Config{Hostname: hostname, Environ: environ}
	port := getenv("PORT")
	if port == "" {
		port = DefaultPort
	}
	if err := validatePort(port); err != nil {
		return Config{}, fmt.Errorf("PORT: %w", err)
	}
	cfg.HTTPAddr = net.JoinHostPort("", port)
	if udp := getenv("UDP_PORT"); udp != "" {
		if err := validatePort(udp); err != nil {
			return Config{}, fmt.Errorf("UDP_PORT: %w", err)
		}
		cfg.UDPAddr = net.JoinHostPort("", udp)
	}
	if d := getenv("SHUTDOWN_DELAY"); d != "" {
		delay, err := time.ParseDuration(d)
		if err != nil {
			return Config{}, fmt.Errorf("SHUTDOWN_DELAY: %w", err)
		}
		if delay < 0 {
			return Config{}, fmt.Errorf("SHUTDOWN_DELAY: %q is negative", d)
		}
		cfg.ShutdownDelay = delay
	}
	return cfg, nil
}

// validatePort accepts a decimal port number from 0 (any free port) to 65535.
func validatePort(s string) error {
	if _, err := strconv.ParseUint(s, 10, 16); err != nil {
		return fmt.Errorf("%q is not a port number (0-65535)", s)
	}
	return nil
}
