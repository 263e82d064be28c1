// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

// The SignUp invariant: each user has at most one SignUp decision, a
// record that holds the user's claim (the same record delivered again is
// the same decision), and no user known to be signed up gets one. It
// rests on the life of a claim, which this file runs and nothing else
// changes:
//
//   - decided: under the locks of all the batch's users, once no other
//     batch of this process has a claim in flight for any of them. A
//     batch that finds one waits, holding no claim itself (so two batches
//     never wait on each other), and then decides on the outcome: a copy
//     of a SignUp that was refused is the SignUp again, a copy of one that
//     was delivered is dropped. The claim is in flight from here on.
//   - settled, when replicas share a store: set there if absent and if no
//     replica registered its record as a Login, in one round trip for the
//     batch (with the batch's own Login registrations); a user whose claim
//     another record holds is decided again from that holder, and one whose
//     claim lost to a Login is decided again without that record, which may
//     take another round trip.
//   - written ahead, with the batch's update reservations, before the
//     records leave the processor;
//   - confirmed once the pipeline accepted the records, in the shared
//     store (which queues the user's app_metadata update then, never
//     before: a claimed record may reach Splunk only as another replica's
//     Login) and in storage, before the sender is answered; or rolled back
//     in this process when the pipeline refused them, the user's previous
//     state restored.
//
// A claim is never given to another record. One found unconfirmed in
// storage is doubtful (a process stopped between writing it and learning
// the outcome): it holds its record still, whose sender, never answered,
// delivers it again, and that redelivery is the SignUp.

// maxClaimWait bounds how long a batch waits for another batch's claim on
// one of its users; past it the batch is refused and its sender retries.
const maxClaimWait = 5 * time.Second

var errClaimBusy = errors.New("a SignUp of a user in this batch is being delivered by another batch, retry later")

// claimSet is one batch's claims and everything that follows from them:
// the users it made a SignUp for, with the state to restore if the
// pipeline refuses them, and their app_metadata update reservations. The
// processor asks it to write ahead, then to confirm or roll back; it alone
// changes the store's claims and the update queue's reservations.
type claimSet struct {
	store   *userStore
	updates updateReserver // nil: no updates are made
	claims  []claim
	writes  []*storage.Operation // the claims' write-ahead operations
	written bool                 // the write-ahead reached storage
	placed  []pendingUpdate      // update reservations, made by writeAhead
	done    chan struct{}        // closed when the claims are confirmed or rolled back
}

// updateReserver is what a claim set needs of an update queue: places
// taken before the records leave, persisted with the claims, then handed
// to the workers or released.
type updateReserver interface {
	reserve(ctx context.Context, wants []pendingUpdate) (placed []pendingUpdate, ops []*storage.Operation, written func())
	commit(placed []pendingUpdate)
	abort(placed []pendingUpdate) []*storage.Operation
}

type claim struct {
	user      string
	state     userState // as claimed
	prev      userState
	prevKnown bool
}

func (cs *claimSet) users() []string {
	users := make([]string, len(cs.claims))
	for i, c := range cs.claims {
		users[i] = c.user
	}
	return users
}

// wantedUpdates are the app_metadata updates the claims call for.
func (cs *claimSet) wantedUpdates() []pendingUpdate {
	updates := make([]pendingUpdate, len(cs.claims))
	for i, c := range cs.claims {
		updates[i] = pendingUpdate{user: c.user}
	}
	return updates
}

// claimed reports whether this set claimed the user's SignUp.
func (cs *claimSet) claimed(user string) bool {
	return slices.ContainsFunc(cs.claims, func(c claim) bool { return c.user == user })
}

// decideBatch decides every candidate in order (decide.go has the rules),
// settles the batch's claims with the replicas' shared store when there is
// one, and records the claims, in memory, as in flight.
func (s *userStore) decideBatch(ctx context.Context, items []candidate, lookups map[string]lookupResult, updates updateReserver) ([]decision, *claimSet, error) {
	cs := &claimSet{store: s, updates: updates, done: make(chan struct{})}
	decisions := make([]decision, len(items))
	if len(items) == 0 {
		return decisions, cs, nil
	}
	unlock, err := s.lockWithoutFlights(ctx, items)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	// The batch's own view of its users: a state it decided stays what it
	// decided even if the cache evicts it before the batch ends.
	users := make(map[string]batchUser, len(items))
	for _, c := range items {
		if _, ok := users[c.user]; ok {
			continue
		}
		st, known, err := s.get(ctx, c.user)
		if err != nil {
			return nil, nil, fmt.Errorf("signup processor could not read user state from storage: %w", err)
		}
		users[c.user] = batchUser{before: st, known: known, decided: st}
	}
	// registers: the record decided a Login is registered so with the
	// shared store before it leaves (settleRequest); elsewhere: records
	// another replica registered so, a Login here too.
	registers := make([]bool, len(items))
	elsewhere := map[string]bool{}
	lookupsShared := s.shared != nil && s.shared.lookups
	decideUser := func(i int, c candidate) {
		u := users[c.user]
		claimed := cs.claimed(c.user)
		var d decision
		if c.id != "" && elsewhere[c.id] {
			d = decision{event: auth0event.EventLogin, basis: basisOtherReplica, next: u.decided}
		} else {
			d = decide(c, u.decided, claimed, lookups[c.user])
		}
		registers[i] = s.shared != nil && c.registersLogin(u.decided, d, lookupsShared)
		u.decided = d.next
		if d.claim {
			if !claimed {
				cs.claims = append(cs.claims, claim{user: c.user, prev: u.before, prevKnown: u.known})
			}
			cs.setClaim(c.user, d.next)
		} else if d.changed {
			u.changed = true
		}
		users[c.user] = u
		decisions[i] = d
	}
	for i, c := range items {
		decideUser(i, c)
	}
	b := &settling{items: items, users: users, decide: decideUser, registers: registers, elsewhere: elsewhere}
	if err := s.settle(ctx, cs, b); err != nil {
		return nil, nil, err
	}
	for user, u := range users {
		switch {
		case cs.claimed(user):
			if op := s.put(user, u.decided); op != nil {
				cs.writes = append(cs.writes, op)
			}
		case u.changed:
			s.markDirty(user, u.decided)
		}
	}
	s.flightsMu.Lock()
	for _, c := range cs.claims {
		s.flights[c.user] = cs
	}
	s.flightsMu.Unlock()
	return decisions, cs, nil
}

// batchUser is one user of a batch being decided.
type batchUser struct {
	before  userState // before the batch, to restore on a rollback
	known   bool      // before was in the store
	decided userState // after the batch's records decided so far
	// changed: the batch learned something of the user other than a
	// claim of its own, which the next flush writes.
	changed bool
}

// settling is a batch being settled with the shared store: its records,
// its users' views, how to decide one record again, and which of its
// Logins to register.
type settling struct {
	items     []candidate
	users     map[string]batchUser
	decide    func(int, candidate)
	registers []bool
	elsewhere map[string]bool
}

// settle asks the shared store, in one round trip, for the batch's claims
// and registers the Logins that another replica might otherwise decide a
// SignUp (decide.go, registersLogin). A user whose claim another record
// holds already is decided again from that claim: the batch's copies of
// that record are its SignUp again (or dropped as delivered), every other
// record of the user a Login. A claim whose record another replica
// registered as a Login loses to it: that record is a Login here too, and
// the user's other records are decided again, which may claim one of them
// in the next round trip. When the store cannot answer, the batch is
// refused (its sender retries), or with decide_locally its claims stand on
// this replica's word alone.
func (s *userStore) settle(ctx context.Context, cs *claimSet, b *settling) error {
	if s.shared == nil {
		return nil
	}
	settled := map[string]bool{} // users whose claim the store answered
	// Each round after the first decides again only users whose claim lost
	// (to a holder, which settles them, or to a Login registered elsewhere,
	// which takes one of the batch's records out of the running), so the
	// rounds end within two more than the batch's records.
	maxRounds := len(b.items) + 2
	for round := 0; ; round++ {
		var reqs []settleRequest
		claiming := map[string]bool{}
		for _, c := range cs.claims {
			if !settled[c.user] {
				reqs = append(reqs, settleRequest{identity: identityOf(c.user, c.state)})
				claiming[c.user] = true
			}
		}
		claimReqs := len(reqs)
		// The Login registrations follow the claims. A user the batch
		// claims needs none: another replica's claim of any record of
		// theirs loses to this one. Should this one lose, the user is
		// decided again, and their Logins with them.
		var registered []int
		sent := map[string]bool{} // records registered this round: copies once
		for i, reg := range b.registers {
			if !reg || claiming[b.items[i].user] {
				continue
			}
			registered = append(registered, i)
			if !sent[b.items[i].id] {
				sent[b.items[i].id] = true
				reqs = append(reqs, settleRequest{identity: signupIdentity{User: b.items[i].user, Record: b.items[i].id}, login: true})
			}
		}
		if len(reqs) == 0 {
			return nil
		}
		if round == maxRounds {
			return fmt.Errorf("signup processor: the batch's SignUp claims did not settle in %d round trips", maxRounds)
		}
		settleCtx, cancel := context.WithTimeout(ctx, s.shared.timeout)
		answers, err := s.shared.arbiter.settle(settleCtx, reqs)
		cancel()
		if err != nil {
			if s.shared.decideLocally {
				s.observe(ctx, claimDecidedLocally, claimReqs)
				s.warnUnavailable(err)
				return nil
			}
			s.observe(ctx, claimRefusedUnavailable, claimReqs)
			s.warnUnavailable(err)
			return fmt.Errorf("%w: %w", errSharedUnavailable, err)
		}
		for _, i := range registered {
			b.registers[i] = false
		}
		for i, c := range b.items {
			if claiming[c.user] {
				b.registers[i] = false
			}
		}
		held := make([]*signupIdentity, len(answers))
		for k, a := range answers {
			held[k] = a.held
		}
		s.awaitDelivery(ctx, b.items, held)
		// again: the users to decide again, from the state given.
		again := map[string]userState{}
		var won, lostToHolder, lostToLogin, logins int
		for k, req := range reqs {
			user := req.identity.User
			switch {
			case held[k] != nil:
				// Learn the holder, so that the user's next records are
				// decided here without asking.
				again[user] = held[k].state()
				settled[user] = true
				if k < claimReqs {
					lostToHolder++
				}
			case answers[k].loginElsewhere:
				b.elsewhere[req.identity.Record] = true
				if _, ok := again[user]; !ok {
					again[user] = b.users[user].before
				}
				lostToLogin++
			case k < claimReqs:
				settled[user] = true
				won++
			default:
				logins++
			}
		}
		s.observe(ctx, claimWon, won)
		s.observe(ctx, claimHeld, lostToHolder)
		s.observe(ctx, claimLostToLogin, lostToLogin)
		s.countLoginsRegistered(ctx, logins)
		if len(again) == 0 {
			continue
		}
		s.decideAgain(cs, b, again)
	}
}

// decideAgain decides the records of the users in again from the state
// given, in the batch's order; a claim that becomes a redelivery of the
// record holding the user's claim keeps the user's state before the batch
// for a rollback.
func (s *userStore) decideAgain(cs *claimSet, b *settling, again map[string]userState) {
	kept := cs.claims[:0]
	var dropped []claim
	for _, c := range cs.claims {
		if _, ok := again[c.user]; ok {
			dropped = append(dropped, c)
		} else {
			kept = append(kept, c)
		}
	}
	cs.claims = kept
	for user, st := range again {
		u := b.users[user]
		u.decided = st
		u.changed = u.changed || st.Claimed
		b.users[user] = u
	}
	for i, c := range b.items {
		if _, ok := again[c.user]; !ok {
			continue
		}
		claimedBefore := cs.claimed(c.user)
		b.decide(i, c)
		if !claimedBefore && cs.claimed(c.user) {
			for _, d := range dropped {
				if d.user == c.user {
					cs.claims[len(cs.claims)-1].prev, cs.claims[len(cs.claims)-1].prevKnown = d.prev, d.prevKnown
				}
			}
		}
	}
}

func (cs *claimSet) setClaim(user string, st userState) {
	for i := range cs.claims {
		if cs.claims[i].user == user {
			cs.claims[i].state = st
		}
	}
}

// lockWithoutFlights takes the lock stripes of the batch's users, in
// ascending order so that batches never deadlock, once no other batch has
// a claim in flight for any of them.
func (s *userStore) lockWithoutFlights(ctx context.Context, items []candidate) (unlock func(), err error) {
	users := make([]string, len(items))
	for i, c := range items {
		users[i] = c.user
	}
	var timeout <-chan time.Time
	for {
		unlock := s.lockUsers(users)
		busy := s.flightOf(users)
		if busy == nil {
			return unlock, nil
		}
		unlock()
		if timeout == nil {
			timer := time.NewTimer(maxClaimWait)
			defer timer.Stop()
			timeout = timer.C
		}
		select {
		case <-busy.done:
		case <-timeout:
			return nil, errClaimBusy
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// lockUsers takes the lock stripes of several users in ascending order, so
// that two batches locking overlapping users never deadlock.
func (s *userStore) lockUsers(users []string) (unlock func()) {
	stripes := make([]int, len(users))
	for i, user := range users {
		stripes[i] = s.stripe(user)
	}
	slices.Sort(stripes)
	stripes = slices.Compact(stripes)
	for _, i := range stripes {
		s.locks[i].Lock()
	}
	return func() {
		for _, i := range slices.Backward(stripes) {
			s.locks[i].Unlock()
		}
	}
}

// flightOf returns a claim set in flight for one of the users.
func (s *userStore) flightOf(users []string) *claimSet {
	s.flightsMu.Lock()
	defer s.flightsMu.Unlock()
	if len(s.flights) == 0 {
		return nil
	}
	for _, user := range users {
		if cs, ok := s.flights[user]; ok {
			return cs
		}
	}
	return nil
}

// writeAhead reserves the claims' updates and makes both durable, in one
// storage transaction, before the records leave.
func (cs *claimSet) writeAhead(ctx context.Context) error {
	var reservations []*storage.Operation
	written := func() {}
	if cs.updates != nil && len(cs.claims) > 0 {
		cs.placed, reservations, written = cs.updates.reserve(ctx, cs.wantedUpdates())
	}
	err := cs.store.persist(ctx, append(cs.writes, reservations...))
	written()
	if err != nil {
		return err
	}
	cs.written = len(cs.writes) > 0
	return nil
}

// confirm records that the pipeline accepted the batch's SignUps, in
// the shared store and in storage before it returns, so that a redelivery
// of the batch after the sender was answered is dropped rather than
// emitted again, and hands their updates to the workers (the Rule's order:
// mark after delivery). When the shared store does not answer, the claims
// stay unconfirmed here and the error is returned: the sender is asked to
// retry, and the copies it sends are the SignUp again (the confirmations
// are also sent again until the store answers, shared.go). When the
// storage write fails the confirmations stay in memory (and are flushed
// later) and the error is returned: the copies the sender sends are
// dropped as delivered.
func (cs *claimSet) confirm(ctx context.Context) error {
	s := cs.store
	defer s.land(cs)
	if cs.updates != nil {
		cs.updates.commit(cs.placed)
	}
	if err := s.confirmShared(ctx, cs); err != nil {
		return err
	}
	var ops []*storage.Operation
	for _, c := range cs.claims {
		unlock := s.lockUser(c.user)
		st := c.state
		st.Confirmed = true
		if op := s.put(c.user, st); op != nil {
			ops = append(ops, op)
		}
		unlock()
	}
	if err := s.persist(context.WithoutCancel(ctx), ops); err != nil {
		for _, c := range cs.claims {
			st := c.state
			st.Confirmed = true
			s.markDirty(c.user, st)
		}
		return fmt.Errorf("the records were delivered but their SignUps could not be recorded in storage: %w", err)
	}
	return nil
}

// rollback undoes the batch's claims and releases their update
// reservations: the pipeline refused the SignUps, which their senders
// deliver again. It returns what failed to reach storage; a claim left
// there holds its record after a restart (the redelivery is the SignUp),
// never another.
func (cs *claimSet) rollback(ctx context.Context) error {
	s := cs.store
	defer s.land(cs)
	var aborted []*storage.Operation
	if cs.updates != nil {
		aborted = cs.updates.abort(cs.placed)
	}
	ops := s.restoreLocked(cs)
	if !cs.written {
		ops = nil
	}
	return s.persist(ctx, append(ops, aborted...))
}

func (s *userStore) restoreLocked(cs *claimSet) []*storage.Operation {
	unlock := s.lockUsers(cs.users())
	defer unlock()
	return s.restore(cs)
}

// restore puts back, in memory, the states the claims replaced, and returns
// the operations that would persist that. The caller holds the users' locks.
func (s *userStore) restore(cs *claimSet) []*storage.Operation {
	var ops []*storage.Operation
	for _, c := range cs.claims {
		var op *storage.Operation
		if c.prevKnown {
			op = s.put(c.user, c.prev)
		} else {
			op = s.forget(c.user)
		}
		if op != nil {
			ops = append(ops, op)
		}
	}
	return ops
}

// land ends the claims' flight: batches waiting for these users go on.
func (s *userStore) land(cs *claimSet) {
	s.flightsMu.Lock()
	for _, c := range cs.claims {
		if s.flights[c.user] == cs {
			delete(s.flights, c.user)
		}
	}
	s.flightsMu.Unlock()
	close(cs.done)
}
