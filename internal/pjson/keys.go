package pjson // import "github.com/otelcol-auth0/otelcol-auth0/internal/pjson"

// internKey returns a static string for the object keys that appear in
// nearly every Auth0 log event or Action payload, which saves the key's
// allocation on every record. A switch on string(b) neither allocates nor
// hashes: the compiler turns it into comparisons by length and content,
// which profiles showed cheaper here than a map lookup.
func internKey(b []byte) (string, bool) {
	switch string(b) {
	case "log_id":
		return "log_id", true
	case "data":
		return "data", true
	case "date":
		return "date", true
	case "type":
		return "type", true
	case "description":
		return "description", true
	case "connection":
		return "connection", true
	case "connection_id":
		return "connection_id", true
	case "client_id":
		return "client_id", true
	case "client_name":
		return "client_name", true
	case "ip":
		return "ip", true
	case "user_agent":
		return "user_agent", true
	case "hostname":
		return "hostname", true
	case "user_id":
		return "user_id", true
	case "user_name":
		return "user_name", true
	case "strategy":
		return "strategy", true
	case "strategy_type":
		return "strategy_type", true
	case "details":
		return "details", true
	case "prompts":
		return "prompts", true
	case "session_id":
		return "session_id", true
	case "stats":
		return "stats", true
	case "loginsCount":
		return "loginsCount", true
	case "audience":
		return "audience", true
	case "scope":
		return "scope", true
	case "isMobile":
		return "isMobile", true
	case "location_info":
		return "location_info", true
	case "organization_id":
		return "organization_id", true
	case "organization_name":
		return "organization_name", true
	case "tenant_name":
		return "tenant_name", true
	case "$event_schema":
		return "$event_schema", true
	case "version":
		return "version", true
	case "auth0_client":
		return "auth0_client", true
	case "name":
		return "name", true
	case "env":
		return "env", true
	case "node":
		return "node", true
	case "country_code":
		return "country_code", true
	case "country_code3":
		return "country_code3", true
	case "country_name":
		return "country_name", true
	case "city_name":
		return "city_name", true
	case "latitude":
		return "latitude", true
	case "longitude":
		return "longitude", true
	case "time_zone":
		return "time_zone", true
	case "continent_code":
		return "continent_code", true
	case "elapsedTime":
		return "elapsedTime", true
	case "initiatedAt":
		return "initiatedAt", true
	case "completedAt":
		return "completedAt", true
	case "flow":
		return "flow", true
	case "identity":
		return "identity", true
	case "stage":
		return "stage", true
	case "timers":
		return "timers", true
	case "rules":
		return "rules", true
	case "user":
		return "user", true
	case "_id":
		return "_id", true
	case "email":
		return "email", true
	case "environment_name":
		return "environment_name", true
	case "security_context":
		return "security_context", true
	case "ja3":
		return "ja3", true
	case "ja4":
		return "ja4", true
	case "tls":
		return "tls", true
	case "id":
		return "id", true
	case "session_connection":
		return "session_connection", true
	case "schema_version":
		return "schema_version", true
	case "event_id":
		return "event_id", true
	case "timestamp":
		return "timestamp", true
	case "app_metadata":
		return "app_metadata", true
	case "client":
		return "client", true
	case "request":
		return "request", true
	case "transaction":
		return "transaction", true
	case "tenant":
		return "tenant", true
	case "logins_count":
		return "logins_count", true
	case "protocol":
		return "protocol", true
	case "geoip":
		return "geoip", true
	case "username":
		return "username", true
	}
	return "", false
}
