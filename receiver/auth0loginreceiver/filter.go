// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

// typeFilter keeps a record when its type is included (or nothing is
// included explicitly) and not excluded. A record without a type is kept
// unless an include list asks for specific types.
type typeFilter struct {
	include map[string]struct{}
	exclude map[string]struct{}
}

func newTypeFilter(cfg TypeFilterConfig) typeFilter {
	return typeFilter{include: toSet(cfg.Include), exclude: toSet(cfg.Exclude)}
}

func (f typeFilter) keep(code string) bool {
	if f.include != nil {
		if _, ok := f.include[code]; !ok {
			return false
		}
	}
	_, excluded := f.exclude[code]
	return !excluded
}

func toSet(codes []string) map[string]struct{} {
	if len(codes) == 0 {
		return nil
	}
	set := make(map[string]struct{}, len(codes))
	for _, c := range codes {
		set[c] = struct{}{}
	}
	return set
}
