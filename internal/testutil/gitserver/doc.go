// Package gitserver serves bare git repositories over smart HTTP for tests: git's own
// git-http-backend behind net/http/cgi on a loopback httptest server, with basic auth.
package gitserver
