// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// TestStoreFootprint measures the disk the store takes per signed-up user,
// the figures behind the sizing advice in the README: the store keeps every
// user it has decided about, so it grows with the tenant's user base. It
// runs real SignUps of new users through the processor into file_storage,
// stops it (the last flush writes the confirmations), and reads how many
// pages the bbolt file uses.
func TestStoreFootprint(t *testing.T) {
	const batches, perBatch = 100, 100
	e := newEnv(t).withStorage()
	e.start(createDefaultConfig().(*Config))
	for b := range batches {
		events := make([]auth0test.Event, perBatch)
		for i := range events {
			// Auth0 user ids: the connection, then 24 hex digits.
			events[i] = auth0test.Event{Type: "ss", UserID: fmt.Sprintf("auth0|6182f1a9c3d4e5f6%08x", b*perBatch+i)}
		}
		require.NoError(t, e.consume(auth0test.Lines(events...)))
	}
	require.Len(t, e.countEvents("SignUp"), batches*perBatch, "one SignUp per user")
	e.stop()

	files, err := filepath.Glob(filepath.Join(e.dir, "*"))
	require.NoError(t, err)
	require.Len(t, files, 1, "one file_storage file")
	db, err := bolt.Open(files[0], 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	// The tree's pages, and the file's pages in use: the second adds the
	// pages the flush's rewrites freed, which depends on how the flushes
	// fell, and which bbolt reuses for later writes.
	var tree, used int64
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		used = tx.Size()
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			st := b.Stats()
			tree += int64(st.BranchAlloc + st.LeafAlloc)
			return nil
		})
	}))
	info, err := os.Stat(files[0])
	require.NoError(t, err)
	const users = batches * perBatch
	t.Logf("store: %d users, tree %d bytes (%d per user), pages in use %d bytes (%d per user), file %d bytes",
		users, tree, tree/users, used, used/users, info.Size())
	// A user is a key of about 35 bytes and a state of about 80 (the
	// SignUp record's id), in bbolt leaves that split half full.
	assert.Less(t, tree/users, int64(400), "bytes of tree per user")
}
