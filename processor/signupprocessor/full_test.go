// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build linux

package signupprocessor

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childtest"
)

// storeFullDirEnv runs TestStoreFull's body in a child process: the file
// size limit it sets is per process.
const storeFullDirEnv = "SIGNUP_STORE_FULL_DIR"

// TestStoreFull runs the store's file_storage out of room (the kernel's
// file size limit stops the bbolt file from growing, as a full disk does).
// A batch whose new users' SignUp claims cannot be written is refused with
// the storage error, so the receiver answers 503 and Auth0 retries, and
// none of its records leaves; users the store knows keep flowing meanwhile;
// once there is room, the refused batch is taken and each of its users gets
// exactly one SignUp.
func TestStoreFull(t *testing.T) {
	childtest.Run(t, storeFullDirEnv, nil, runStoreFull)
}

func runStoreFull(t *testing.T, dir string) {
	signups := func(prefix string, n int) []byte {
		events := make([]auth0test.Event, n)
		for i := range events {
			events[i] = auth0test.Event{Type: "ss", UserID: fmt.Sprintf("auth0|%s%019d", prefix, i)}
		}
		return auth0test.Lines(events...)
	}
	logins := func(prefix string, n int) []byte {
		events := make([]auth0test.Event, n)
		for i := range events {
			events[i] = auth0test.Event{Type: "s", UserID: fmt.Sprintf("auth0|%s%019d", prefix, i), LoginsCount: 1}
		}
		return auth0test.Lines(events...)
	}
	const known, fresh = 50, 2000

	e := newEnv(t)
	e.dir = dir
	e.start(createDefaultConfig().(*Config))
	require.NoError(t, e.consume(signups("known", known)))
	// A restart writes the confirmations and starts with an empty cache,
	// so the known users are read from the full store below.
	e.stop()
	e.start(createDefaultConfig().(*Config))

	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	info, err := os.Stat(files[0])
	require.NoError(t, err)
	var limit syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &limit))
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(info.Size()), Max: limit.Max}))

	delivered := len(e.tags())
	err = e.consume(signups("fresh", fresh))
	require.Error(t, err, "the store's file could not grow, yet the SignUps were taken")
	assert.Contains(t, err.Error(), "could not record its decisions in storage")
	assert.Contains(t, err.Error(), "file too large")
	assert.Len(t, e.tags(), delivered, "no record of a refused batch may leave")

	// Their logins count is 1, so only the store tells these are Logins.
	require.NoError(t, e.consume(logins("known", known)), "known users must not wait for room")
	for _, tg := range e.tags()[delivered:] {
		assert.Equal(t, "Login", tg.Event, tg.User)
		assert.Equal(t, "store", tg.Basis, tg.User)
	}

	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit))
	require.NoError(t, e.consume(signups("fresh", fresh)))
	signedUp := e.countEvents("SignUp")
	assert.Len(t, signedUp, known+fresh)
	for user, n := range signedUp {
		assert.Equal(t, 1, n, user)
	}
	e.stop()
}
