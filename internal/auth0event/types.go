// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import "go.opentelemetry.io/collector/pdata/plog"

// Kind groups Auth0 event type codes by what they mean for sign-in activity.
type Kind uint8

const (
	KindUnknown Kind = iota
	// KindLogin is an interactive, successful login: s, scoa, sens.
	KindLogin
	// KindSignup is a successful signup: ss.
	KindSignup
	// KindSilentAuth is a successful silent authentication (prompt=none): ssa.
	KindSilentAuth
	// KindPasswordExchange is a credential-based token exchange (resource
	// owner password, alone or with an MFA challenge): the user proved who
	// they are, so it counts as a login, but never as a signup.
	KindPasswordExchange
	// KindTokenExchange is any other successful token exchange (code,
	// refresh token, client credentials, device code, ...).
	KindTokenExchange
	// KindLogout is a successful logout: slo.
	KindLogout
	// KindFailure is any failed operation (failed login, signup, exchange, ...).
	KindFailure
	// KindWarning is a warning or notice (w, depnote, MFA rate limit, ...).
	KindWarning
	// KindSecurity is a block or limit that needs attention (blocked account
	// or IP, breached password, API rate limit, connector offline).
	KindSecurity
	// KindOther is a known successful event that is none of the above
	// (password change, user deletion, Management API operation, MFA step...).
	KindOther
)

var kindNames = [...]string{
	KindUnknown:          "unknown",
	KindLogin:            "login",
	KindSignup:           "signup",
	KindSilentAuth:       "silent_auth",
	KindPasswordExchange: "password_exchange",
	KindTokenExchange:    "token_exchange",
	KindLogout:           "logout",
	KindFailure:          "failure",
	KindWarning:          "warning",
	KindSecurity:         "security",
	KindOther:            "other",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return kindNames[KindUnknown]
}

// Severity maps a kind onto an OTel severity: successes are INFO, failures
// and warnings WARN, security events ERROR.
func (k Kind) Severity() plog.SeverityNumber {
	switch k {
	case KindUnknown:
		return plog.SeverityNumberUnspecified
	case KindFailure, KindWarning:
		return plog.SeverityNumberWarn
	case KindSecurity:
		return plog.SeverityNumberError
	default:
		return plog.SeverityNumberInfo
	}
}

// TypeInfo describes one Auth0 event type code.
type TypeInfo struct {
	Code string
	Name string
	Kind Kind
}

// LookupType returns what is known of an Auth0 event type code.
func LookupType(code string) (TypeInfo, bool) {
	ti, ok := types[code]
	return ti, ok
}

// KnownTypes lists every code in the table (for validation and docs).
func KnownTypes() map[string]TypeInfo { return types }

// types is Auth0's log event type table ("Log Event Type Codes" in the Auth0
// docs), with the human names Auth0 shows in its dashboard. Unknown codes
// pass through with KindUnknown: Auth0 adds codes without notice.
var types = func() map[string]TypeInfo {
	table := []TypeInfo{
		// logins and signups
		{"s", "Success Login", KindLogin},
		{"scoa", "Success Cross-Origin Authentication", KindLogin},
		{"sens", "Success Native Social Login", KindLogin},
		{"ss", "Success Signup", KindSignup},
		{"ssa", "Success Silent Auth", KindSilentAuth},
		{"slo", "Success Logout", KindLogout},
		// token exchanges
		{"sepft", "Success Password Exchange", KindPasswordExchange},
		{"seotpft", "Success OTP Challenge Exchange", KindPasswordExchange},
		{"seoobft", "Success OOB Challenge Exchange", KindPasswordExchange},
		{"sercft", "Success MFA Recovery Code Exchange", KindPasswordExchange},
		{"sepotpft", "Success Passwordless OTP Exchange", KindPasswordExchange},
		{"seacft", "Success Authorization Code Exchange", KindTokenExchange},
		{"seccft", "Success Client Credentials Exchange", KindTokenExchange},
		{"sertft", "Success Refresh Token Exchange", KindTokenExchange},
		{"sede", "Success Device Code Exchange", KindTokenExchange},
		{"sd", "Success Delegation", KindTokenExchange},
		{"ciba_exchange_succeeded", "Successful CIBA Exchange", KindTokenExchange},
		// failures
		{"f", "Failed Login", KindFailure},
		{"fp", "Failed Login (Wrong Password)", KindFailure},
		{"fu", "Failed Login (Invalid Email/Username)", KindFailure},
		{"fc", "Failed by Connector", KindFailure},
		{"fco", "Failed by CORS", KindFailure},
		{"fcoa", "Failed Cross-Origin Authentication", KindFailure},
		{"fens", "Failed Native Social Login", KindFailure},
		{"fsa", "Failed Silent Auth", KindFailure},
		{"fs", "Failed Signup", KindFailure},
		{"flo", "Failed Logout", KindFailure},
		{"feacft", "Failed Authorization Code Exchange", KindFailure},
		{"feccft", "Failed Client Credentials Exchange", KindFailure},
		{"fepft", "Failed Password Exchange", KindFailure},
		{"fertft", "Failed Refresh Token Exchange", KindFailure},
		{"ferrt", "Failed Rotating Refresh Token Exchange", KindFailure},
		{"feoobft", "Failed OOB Challenge Exchange", KindFailure},
		{"feotpft", "Failed OTP Challenge Exchange", KindFailure},
		{"fercft", "Failed MFA Recovery Code Exchange", KindFailure},
		{"fepotpft", "Failed Passwordless OTP Exchange", KindFailure},
		{"fede", "Failed Device Code Exchange", KindFailure},
		{"fd", "Failed Delegation", KindFailure},
		{"fdeac", "Failed Device Activation", KindFailure},
		{"fdeaz", "Failed Device Authorization Request", KindFailure},
		{"fdecc", "User Canceled Device Confirmation", KindFailure},
		{"fce", "Failed Change Email", KindFailure},
		{"fcp", "Failed Change Password", KindFailure},
		{"fcph", "Failed Post Change Password Hook", KindFailure},
		{"fcpn", "Failed Change Phone Number", KindFailure},
		{"fcpr", "Failed Change Password Request", KindFailure},
		{"fcu", "Failed Change Username", KindFailure},
		{"fdu", "Failed User Deletion", KindFailure},
		{"fi", "Failed Invite Accept", KindFailure},
		{"fn", "Failed Sending Notification", KindFailure},
		{"fpar", "Failed Pushed Authorization Request", KindFailure},
		{"fui", "Failed Users Import", KindFailure},
		{"fv", "Failed Verification Email", KindFailure},
		{"fvr", "Failed Verification Email Request", KindFailure},
		{"fapi", "Failed API Operation", KindFailure},
		{"ciba_exchange_failed", "Failed CIBA Exchange", KindFailure},
		{"ciba_start_failed", "Failed CIBA Start", KindFailure},
		{"actions_execution_failed", "Actions Execution Failed", KindFailure},
		{"gd_auth_failed", "MFA Authentication Failed", KindFailure},
		{"gd_auth_rejected", "MFA Authentication Rejected", KindFailure},
		{"gd_recovery_failed", "MFA Recovery Failed", KindFailure},
		{"gd_send_pn_failure", "MFA Push Notification Failed", KindFailure},
		{"gd_send_sms_failure", "MFA SMS Failed", KindFailure},
		{"gd_start_enroll_failed", "MFA Enrollment Start Failed", KindFailure},
		// warnings
		{"w", "Warning During Login", KindWarning},
		{"wum", "Warning User Management", KindWarning},
		{"depnote", "Deprecation Notice", KindWarning},
		{"gd_otp_rate_limit_exceed", "Too Many MFA OTP Failures", KindWarning},
		{"gd_recovery_rate_limit_exceed", "Too Many MFA Recovery Failures", KindWarning},
		// security
		{"limit_wc", "Blocked Account", KindSecurity},
		{"limit_mu", "Blocked IP Address", KindSecurity},
		{"limit_sul", "Blocked User (Too Many Logins)", KindSecurity},
		{"limit_ui", "Too Many Calls to /userinfo", KindSecurity},
		{"limit_delegation", "Too Many Calls to /delegation", KindSecurity},
		{"api_limit", "Rate Limit on API", KindSecurity},
		{"pwd_leak", "Breached Password", KindSecurity},
		{"coff", "Connector Offline", KindSecurity},
		{"fcpro", "Failed Connector Provisioning", KindSecurity},
		// other successes
		{"sapi", "Success API Operation", KindOther},
		{"sce", "Success Change Email", KindOther},
		{"scp", "Success Change Password", KindOther},
		{"scph", "Success Post Change Password Hook", KindOther},
		{"scpn", "Success Change Phone Number", KindOther},
		{"scpr", "Success Change Password Request", KindOther},
		{"scu", "Success Change Username", KindOther},
		{"sdu", "Success User Deletion", KindOther},
		{"du", "Deleted User", KindOther},
		{"si", "Success Invite Accept", KindOther},
		{"sui", "Success Users Import", KindOther},
		{"sv", "Success Verification Email", KindOther},
		{"svr", "Success Verification Email Request", KindOther},
		{"cs", "Code Sent", KindOther},
		{"cls", "Code/Link Sent", KindOther},
		{"con", "Connector Online", KindOther},
		{"ublkdu", "User Block Released", KindOther},
		{"ciba_start_succeeded", "Successful CIBA Start", KindOther},
		{"gd_auth_succeed", "MFA Authentication Succeeded", KindOther},
		{"gd_enrollment_complete", "MFA Enrollment Complete", KindOther},
		{"gd_recovery_succeed", "MFA Recovery Succeeded", KindOther},
		{"gd_send_pn", "MFA Push Notification Sent", KindOther},
		{"gd_send_sms", "MFA SMS Sent", KindOther},
		{"gd_start_auth", "MFA Authentication Started", KindOther},
		{"gd_start_enroll", "MFA Enrollment Started", KindOther},
		{"gd_unenroll", "MFA Device Unenrolled", KindOther},
		{"gd_update_device_account", "MFA Device Account Updated", KindOther},
		{"gd_user_delete", "MFA User Deleted", KindOther},
		{"gd_tenant_update", "MFA Tenant Settings Updated", KindOther},
		{"gd_module_switch", "MFA Module Switched", KindOther},
		{"mfar", "MFA Required", KindOther},
		{"admin_update_launch", "Auth0 Update Launched", KindOther},
		{"sys_os_update_start", "Auth0 OS Update Started", KindOther},
		{"sys_os_update_end", "Auth0 OS Update Ended", KindOther},
		{"sys_update_start", "Auth0 Update Started", KindOther},
		{"sys_update_end", "Auth0 Update Ended", KindOther},
	}
	m := make(map[string]TypeInfo, len(table))
	for _, ti := range table {
		m[ti.Code] = ti
	}
	return m
}()
