package probonusredis

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
)

// KeyFor returns the key of the ProBonus installation at baseURL, the URL given to
// probonus.WithBaseURL: "probonus:" followed by the scheme, the lower-cased host, the port (80 or
// 443 spelt out when the URL has none) and the path without a trailing slash, for example
// "probonus:http://127.0.0.1:11030". Spellings of one server's URL give one key, so every process
// calling it shares one budget; different servers, or different reverse-proxy prefixes on one
// host, get keys of their own. User info, a query and a fragment are dropped, so no credential is
// written to Redis; a URL that does not parse gets a key made of its SHA-256, for the same reason.
func KeyFor(baseURL string) string {
	raw := strings.TrimSpace(baseURL)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		sum := sha256.Sum256([]byte(raw))
		return "probonus:sha256:" + hex.EncodeToString(sum[:])
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if port != "" {
		host += ":" + port
	}
	return "probonus:" + scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
}
