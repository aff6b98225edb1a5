package ui

import "syscall"

// lowerThreadPriority nices the calling thread (best effort).
func lowerThreadPriority(nice int) {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), nice)
}
