// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"slices"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-auth0/otelcol-auth0/internal/groupcommit"
)

// userState is what the processor knows of one user.
type userState struct {
	// SignedUp: the user is signed up, by this collector's SignUp or by
	// evidence (app_metadata, a lookup, a logins count above one).
	SignedUp bool `json:"s"`
	// ByCount: SignedUp rests only on a logins count above one. The
	// user's signup or first login may still arrive (records out of
	// order); it is then their SignUp.
	ByCount bool `json:"n,omitempty"`
	// Claimed: this collector decided that one of the user's records is
	// their SignUp (SignupRecord, SignupLogin name it).
	Claimed bool `json:"k,omitempty"`
	// SignupRecord is the id of the record claimed as the SignUp, and
	// SignupLogin the login it was about (claims.go): copies of it are
	// not a second SignUp.
	SignupRecord   string `json:"r,omitempty"`
	SignupLogin    string `json:"l,omitempty"`
	SignupByAction bool   `json:"a,omitempty"`
	// Confirmed: the pipeline accepted the claimed record.
	Confirmed bool `json:"c,omitempty"`
	// NoSharedClaim: the user is signed up by Auth0's word (app_metadata,
	// a lookup), or by a count while no replica looks users up, and the
	// replicas' shared store held no claim of theirs when asked: their
	// records need not ask again.
	NoSharedClaim bool `json:"x,omitempty"`
	// CountedAt is when ByCount was taken, or the user last looked up
	// again for it, in unix milliseconds: the next lookup is due
	// lookups.recheck_by_count_after later. 0 (a state stored without
	// it) is long ago.
	CountedAt int64 `json:"t,omitempty"`

	// absent marks a cache entry for a user storage does not hold, so that
	// new users cost one storage read, not one per record. Never stored.
	absent bool
}

// userStore keeps user states in a bounded LRU, backed by a storage
// extension when one is configured (then the LRU is a cache of it), and
// runs the life of SignUp claims (claims.go). Access to one user is
// serialized by its lock stripe.
//
// Writes come in two kinds. A SignUp claim and its confirmation are
// written before the processor goes on (ahead of the records leaving, and
// before the sender is answered): exactly-once across a crash rests on
// them. Users learned to be signed up can be learned again, so they are
// marked dirty and written by a background flush, one transaction a
// second. Concurrent writers share a transaction (group commit), so that a
// burst of batches costs one fsync, not one each.
type userStore struct {
	cache  *lru.Cache[string, userState]
	client storage.Client // nil without a storage extension

	seed  maphash.Seed
	locks [lockStripes]sync.Mutex

	// flights holds, per user, the claim set of the batch delivering that
	// user's SignUp right now (claimed, not yet confirmed or rolled back).
	flightsMu sync.Mutex
	flights   map[string]*claimSet

	dirtyMu sync.Mutex
	dirty   map[string]struct{}

	commits *groupcommit.Committer[[]*storage.Operation]

	// shared, when set, settles every claim with the other replicas
	// (shared.go).
	shared *sharedClaims
}

func newUserStore(size int, client storage.Client) (*userStore, error) {
	cache, err := lru.New[string, userState](size)
	if err != nil {
		return nil, err
	}
	return &userStore{
		cache:   cache,
		client:  client,
		seed:    maphash.MakeSeed(),
		flights: map[string]*claimSet{},
		dirty:   map[string]struct{}{},
		commits: newStorageCommits(client),
	}, nil
}

// newStorageCommits merges the storage batches of concurrent callers into
// one transaction (internal/groupcommit), one transaction at a time, so
// that operations reach storage in the order they were handed in, across
// transactions as within one.
func newStorageCommits(client storage.Client) *groupcommit.Committer[[]*storage.Operation] {
	return groupcommit.New(func(ctx context.Context, batches [][]*storage.Operation) error {
		return client.Batch(ctx, slices.Concat(batches...)...)
	}, groupcommit.Options[[]*storage.Operation]{InFlight: 1})
}

const lockStripes = 256

func (s *userStore) stripe(user string) int {
	return int(maphash.String(s.seed, user) % lockStripes)
}

// lockUser serializes work on one user across concurrent batches.
func (s *userStore) lockUser(user string) func() {
	m := &s.locks[s.stripe(user)]
	m.Lock()
	return m.Unlock
}

func userKey(user string) string { return "user/" + user }

// get returns the user's state; known is false for a user never seen. A
// storage read error is returned with the user treated as unknown.
func (s *userStore) get(ctx context.Context, user string) (userState, bool, error) {
	if st, ok := s.cache.Get(user); ok {
		return st, !st.absent, nil
	}
	if s.client == nil {
		return userState{}, false, nil
	}
	raw, err := s.client.Get(ctx, userKey(user))
	if err != nil {
		return userState{}, false, err
	}
	if raw == nil {
		// Every write goes through the cache, so this entry stays true
		// until one replaces it.
		s.cache.Add(user, userState{absent: true})
		return userState{}, false, nil
	}
	var st userState
	if err := json.Unmarshal(raw, &st); err != nil {
		return userState{}, false, err
	}
	s.cache.Add(user, st)
	return st, true, nil
}

// prefetch reads the users the cache does not hold in one storage
// transaction, so that a batch's new users cost one read between them
// (filestorage runs every read in a write transaction, fsync included).
func (s *userStore) prefetch(ctx context.Context, users []string) error {
	if s.client == nil {
		return nil
	}
	var ops []*storage.Operation
	var missing []string
	for _, user := range users {
		if _, ok := s.cache.Peek(user); !ok {
			ops = append(ops, storage.GetOperation(userKey(user)))
			missing = append(missing, user)
		}
	}
	if len(ops) == 0 {
		return nil
	}
	if err := s.commits.Commit(ctx, ops); err != nil {
		return err
	}
	for i, user := range missing {
		st := userState{absent: true}
		if ops[i].Value != nil {
			st = userState{}
			if err := json.Unmarshal(ops[i].Value, &st); err != nil {
				return err
			}
		}
		// A concurrent batch may have decided about the user meanwhile.
		s.cache.ContainsOrAdd(user, st)
	}
	return nil
}

// put changes the user's state in memory; the returned operation persists
// it (nil without storage).
func (s *userStore) put(user string, st userState) *storage.Operation {
	s.cache.Add(user, st)
	if s.client == nil {
		return nil
	}
	raw, _ := json.Marshal(st)
	return storage.SetOperation(userKey(user), raw)
}

// forget removes the user; the returned operation persists that.
func (s *userStore) forget(user string) *storage.Operation {
	s.cache.Remove(user)
	if s.client == nil {
		return nil
	}
	return storage.DeleteOperation(userKey(user))
}

// persist applies operations durably before returning, in a transaction
// shared with concurrent callers.
func (s *userStore) persist(ctx context.Context, ops []*storage.Operation) error {
	if s.client == nil || len(ops) == 0 {
		return nil
	}
	return s.commits.Commit(ctx, ops)
}

// markDirty changes the user's state in memory and leaves writing it to
// the next flush.
func (s *userStore) markDirty(user string, st userState) {
	s.cache.Add(user, st)
	if s.client == nil {
		return
	}
	s.dirtyMu.Lock()
	s.dirty[user] = struct{}{}
	s.dirtyMu.Unlock()
}

// flush writes the dirty users' current states. A user evicted from the
// cache meanwhile is skipped: what it held can be learned again. The users'
// locks are held until the write returned, so that a state written by
// another path meanwhile (a claim's confirmation) is never overwritten by
// the older one read here.
func (s *userStore) flush(ctx context.Context) error {
	if s.client == nil {
		return nil
	}
	s.dirtyMu.Lock()
	dirty := s.dirty
	s.dirty = map[string]struct{}{}
	s.dirtyMu.Unlock()
	if len(dirty) == 0 {
		return nil
	}
	users := make([]string, 0, len(dirty))
	for user := range dirty {
		users = append(users, user)
	}
	unlock := s.lockUsers(users)
	defer unlock()
	var ops []*storage.Operation
	var later []string
	s.flightsMu.Lock()
	for _, user := range users {
		if _, ok := s.flights[user]; ok {
			// A claim in flight writes its own state, ahead of its
			// records and on confirmation: written here, an unconfirmed
			// claim would outlive a rollback that has nothing to undo
			// in storage. Written by the next flush, once it landed.
			later = append(later, user)
			continue
		}
		if st, ok := s.cache.Peek(user); ok && !st.absent {
			raw, _ := json.Marshal(st)
			ops = append(ops, storage.SetOperation(userKey(user), raw))
		}
	}
	s.flightsMu.Unlock()
	if len(later) > 0 {
		s.dirtyMu.Lock()
		for _, user := range later {
			s.dirty[user] = struct{}{}
		}
		s.dirtyMu.Unlock()
	}
	return s.persist(ctx, ops)
}
