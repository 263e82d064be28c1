// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:generate mdatagen metadata.yaml

// Package signupprocessor decides, for each successful Auth0 login or
// signup record, whether it is the user's SignUp or a Login, exactly once per
// user, as the legacy Splunk HEC Rule did without its defects; shapes the
// record for the splunk_hec exporter; and, once the pipeline accepted a
// SignUp, marks the user signed up in Auth0's app_metadata through a
// rate-limited, persistent queue of Management API updates. See README.md.
package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"
