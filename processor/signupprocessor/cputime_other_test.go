//go:build !unix

package signupprocessor

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
