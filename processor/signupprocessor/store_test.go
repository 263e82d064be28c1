// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

// slowClient is a storage client whose transactions take a while, so that
// callers gather; it counts them and fails them all when fail is set.
type slowClient struct {
	mu           sync.Mutex
	values       map[string][]byte
	transactions int
	fail         error
}

func (c *slowClient) Batch(_ context.Context, ops ...*storage.Operation) error {
	time.Sleep(10 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.transactions++
	if c.fail != nil {
		return c.fail
	}
	for _, op := range ops {
		switch op.Type {
		case storage.Get:
			op.Value = c.values[op.Key]
		case storage.Set:
			c.values[op.Key] = op.Value
		case storage.Delete:
			delete(c.values, op.Key)
		}
	}
	return nil
}

func (c *slowClient) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	err := c.Batch(ctx, op)
	return op.Value, err
}

func (c *slowClient) Set(ctx context.Context, key string, value []byte) error {
	return c.Batch(ctx, storage.SetOperation(key, value))
}

func (c *slowClient) Delete(ctx context.Context, key string) error {
	return c.Batch(ctx, storage.DeleteOperation(key))
}

func (c *slowClient) Close(context.Context) error { return nil }

// Concurrent writers share transactions; each learns its transaction's
// result; reads in a shared transaction get their values.
func TestStoreWritersShareTransactions(t *testing.T) {
	for _, fail := range []error{nil, errors.New("disk full")} {
		t.Run(fmt.Sprint("fail=", fail), func(t *testing.T) {
			const writers = 30
			client := &slowClient{values: map[string][]byte{"user/known": []byte(`{"s":true}`)}, fail: fail}
			s, err := newUserStore(100, client)
			require.NoError(t, err)
			var wg sync.WaitGroup
			for i := range writers {
				wg.Go(func() {
					err := s.persist(context.Background(), []*storage.Operation{storage.SetOperation(fmt.Sprint("user/", i), []byte("{}"))})
					assert.ErrorIs(t, err, fail)
				})
			}
			wg.Go(func() {
				err := s.prefetch(context.Background(), []string{"known"})
				assert.ErrorIs(t, err, fail)
			})
			wg.Wait()
			assert.Less(t, client.transactions, writers, "writers arriving during a transaction share the next")
			if fail != nil {
				return
			}
			assert.Len(t, client.values, writers+1)
			st, known, err := s.get(context.Background(), "known")
			require.NoError(t, err)
			assert.True(t, known)
			assert.True(t, st.SignedUp, "the read in a shared transaction got its value")
		})
	}
}

// A user the flush finds with a claim in flight is left to the claim's
// own writes: the flush writing the unconfirmed claim would leave it in
// storage after a rollback that had nothing to undo there (its write ahead
// failed), and after a restart that claim would hold a record its sender
// had been told to send again. The next flush writes the restored state.
func TestFlushLeavesClaimsInFlightToTheirOwnWrites(t *testing.T) {
	ctx := context.Background()
	client := &slowClient{values: map[string][]byte{}}
	s, err := newUserStore(100, client)
	require.NoError(t, err)
	counted := userState{SignedUp: true, ByCount: true, CountedAt: 7}
	s.markDirty("u", counted)

	_, cs, err := s.decideBatch(ctx, []candidate{{user: "u", id: "r1", kind: auth0event.KindSignup}}, nil, nil)
	require.NoError(t, err)
	require.True(t, cs.claimed("u"))
	require.NoError(t, s.flush(ctx))
	assert.NotContains(t, client.values, userKey("u"), "the claim in flight is not the flush's to write")

	client.fail = errors.New("disk full")
	require.Error(t, cs.writeAhead(ctx))
	client.fail = nil
	require.NoError(t, cs.rollback(ctx))
	require.NoError(t, s.flush(ctx))
	var stored userState
	require.NoError(t, json.Unmarshal(client.values[userKey("u")], &stored))
	assert.Equal(t, counted, stored, "the next flush writes the state the rollback restored")
}
