package main

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// A descriptor inherited without close-on-exec (opened here without it,
// as a parent shell leaves one) is marked so: no process minicloud starts
// gets it.
func TestCloseInheritedOnExec(t *testing.T) {
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0) // no O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	flags := func() int {
		f, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if flags()&unix.FD_CLOEXEC != 0 {
		t.Fatal("the descriptor is close-on-exec before the call: the test proves nothing")
	}
	closeInheritedOnExec()
	if flags()&unix.FD_CLOEXEC == 0 {
		t.Fatal("an inherited descriptor is still passed on to children")
	}
	for _, std := range []int{0, 1, 2} {
		if f, err := unix.FcntlInt(uintptr(std), unix.F_GETFD, 0); err == nil && f&unix.FD_CLOEXEC != 0 {
			t.Fatalf("standard descriptor %d made close-on-exec", std)
		}
	}
}
