// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
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
