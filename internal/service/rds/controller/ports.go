package controller

import (
	"errors"
	"net"
	"slices"
	"strconv"
)

// The loopback ports of the servers. The shared workload runtime's port
// allocator is to replace this file.

// freePort returns a port free on 127.0.0.1 now, avoiding those in use.
func freePort(avoid []int) (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if !slices.Contains(avoid, port) {
			return port, nil
		}
	}
	return 0, errors.New("no free port on 127.0.0.1")
}

// portFree reports whether port can be bound on 127.0.0.1.
func portFree(port int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}
