//go:build !linux

package ui

// lowerThreadPriority is Linux only: elsewhere analyses run at the
// process's priority.
func lowerThreadPriority(int) {}
