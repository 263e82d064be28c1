// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package storagesuite // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/storagesuite"

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// Semantics checks what the storage.Client contract says beyond a map: a
// missing key reads nil, an empty value is not missing, a Get sees the
// batch's earlier operations and not its later ones, the caller owns the
// slices it passed and got.
func Semantics(t *testing.T, s Storage) {
	ctx := context.Background()
	c, closeStore := s.Open(t, t.TempDir())
	defer closeStore()

	missing, err := c.Get(ctx, "missing")
	require.NoError(t, err)
	assert.Nil(t, missing)
	require.NoError(t, c.Delete(ctx, "missing"))

	require.NoError(t, c.Set(ctx, "empty", []byte{}))
	empty, err := c.Get(ctx, "empty")
	require.NoError(t, err)
	assert.NotNil(t, empty, "a key set to nothing exists")
	assert.Empty(t, empty)

	require.NoError(t, c.Set(ctx, "k", []byte("old")))
	before, afterSet, afterDelete := storage.GetOperation("k"), storage.GetOperation("k"), storage.GetOperation("k")
	require.NoError(t, c.Batch(ctx, before, storage.SetOperation("k", []byte("new")), afterSet,
		storage.DeleteOperation("k"), afterDelete, storage.SetOperation("k", []byte("last"))))
	assert.Equal(t, "old", string(before.Value))
	assert.Equal(t, "new", string(afterSet.Value))
	assert.Nil(t, afterDelete.Value)
	last, err := c.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "last", string(last))

	value := []byte("value")
	require.NoError(t, c.Set(ctx, "owned", value))
	value[0] = 'X'
	got, err := c.Get(ctx, "owned")
	require.NoError(t, err)
	got[1] = 'Y'
	again, err := c.Get(ctx, "owned")
	require.NoError(t, err)
	assert.Equal(t, "value", string(again))
}

// Model drives random batches of sets, deletes and gets against a map and
// checks that the store agrees with it throughout and across restarts,
// with values of up to 9 KB on 30 keys.
func Model(t *testing.T, s Storage) {
	ctx := context.Background()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	model := map[string][]byte{}
	c, closeStore := s.Open(t, dir)
	for range 20 {
		for range 50 {
			ops, check := RandomBatch(t, rng, model)
			require.NoError(t, c.Batch(ctx, ops...))
			check()
		}
		requireContents(t, c, model, 30)
		closeStore()
		c, closeStore = s.Open(t, dir)
		requireContents(t, c, model, 30)
	}
	closeStore()
}

// RandomBatch makes a batch of 1 to 4 sets (values of up to 9 KB), deletes
// and gets on the keys "0" to "29", applies it to model, and returns with
// it a check that the batch's gets read what model said at their place.
func RandomBatch(t *testing.T, rng *rand.Rand, model map[string][]byte) ([]*storage.Operation, func()) {
	var ops []*storage.Operation
	for range 1 + rng.IntN(4) {
		key := strconv.Itoa(rng.IntN(30))
		switch rng.IntN(3) {
		case 0:
			value := make([]byte, rng.IntN(9000))
			for i := range value {
				value[i] = byte(rng.Uint32())
			}
			ops = append(ops, storage.SetOperation(key, value))
		case 1:
			ops = append(ops, storage.DeleteOperation(key))
		default:
			ops = append(ops, storage.GetOperation(key))
		}
	}
	wants := make([][]byte, len(ops))
	for i, op := range ops {
		switch op.Type {
		case storage.Set:
			model[op.Key] = append([]byte{}, op.Value...)
		case storage.Delete:
			delete(model, op.Key)
		case storage.Get:
			wants[i] = model[op.Key]
		}
	}
	return ops, func() {
		t.Helper()
		for i, op := range ops {
			if op.Type == storage.Get {
				require.Equal(t, wants[i], op.Value, "get of key %s", op.Key)
			}
		}
	}
}

// requireContents checks that the keys "0" to fmt.Sprint(keys-1) hold what
// model says, and that the others are missing.
func requireContents(t *testing.T, c storage.Client, model map[string][]byte, keys int) {
	t.Helper()
	for i := range keys {
		key := strconv.Itoa(i)
		got, err := c.Get(context.Background(), key)
		require.NoError(t, err)
		want, ok := model[key]
		if !ok {
			require.Nil(t, got, "key %s was deleted", key)
			continue
		}
		require.Equal(t, want, got, "key %s", key)
	}
}
