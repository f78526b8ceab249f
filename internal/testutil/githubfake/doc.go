// Package githubfake is an httptest server answering the GitHub REST endpoints addonsync
// calls (pull requests and their labels) the way GitHub does: the same JSON shapes, 201 on
// create, 422 with GitHub's validation body for a duplicate pull request, 401 "Bad
// credentials", 403/429 rate limits with X-RateLimit-* and Retry-After headers, and
// injectable 5xx. It records every request.
package githubfake
