package pjson // import "github.com/otelcol-auth0/otelcol-auth0/internal/pjson"

// internedKeys are object keys that appear in nearly every Auth0 log event or
// Action payload. Looking a key up here with a []byte-to-string conversion
// does not allocate, so these keys cost no allocation per record.
var internedKeys = func() map[string]string {
	keys := []string{
		// log stream envelope and event
		"log_id", "data", "date", "type", "description", "connection", "connection_id",
		"client_id", "client_name", "ip", "user_agent", "hostname", "user_id", "user_name",
		"strategy", "strategy_type", "details", "prompts", "session_id", "stats", "loginsCount",
		"audience", "scope", "isMobile", "location_info", "organization_id", "organization_name",
		"tenant_name", "$event_schema", "version", "auth0_client", "name", "env", "node",
		"country_code", "country_code3", "country_name", "city_name", "latitude", "longitude",
		"time_zone", "continent_code", "elapsedTime", "initiatedAt", "completedAt", "flow",
		"identity", "stage", "timers", "rules", "user", "_id", "email", "environment_name",
		"security_context", "ja3", "ja4", "tls", "id", "session_connection",
		// Action payload (schema v1)
		"schema_version", "event_id", "timestamp", "app_metadata", "client", "request",
		"transaction", "tenant", "logins_count", "protocol", "geoip", "username",
	}
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k] = k
	}
	return m
}()
