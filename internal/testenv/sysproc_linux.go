package testenv

import "syscall"

// sysProcAttr kills child servers when the test process dies, so a crashed
// or interrupted test leaves no mariadbd behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
