package signin

import (
	"os"
	"os/exec"
	"syscall"
)

// ownGroup keeps a Ctrl-C in the console from reaching the process
// directly; the parent stops it instead.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// terminateGroup ends the process at once: Windows has no SIGTERM to let
// it shut down gracefully.
func terminateGroup(pid int) { killGroup(pid) }

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
