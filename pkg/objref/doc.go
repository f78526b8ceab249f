// Package objref identifies Kubernetes objects independently of their API version: the
// ID type that pkg/sync (as sync.ObjectID) and pkg/helmrelease (as helmrelease.ObjectID)
// share, so an object read from a Helm release record and one applied by the sync engine
// compare equal without conversion.
package objref
