package handlers

import (
	"context"

	"github.com/zeroloss/zeroloss/internal/problem"
)

// Authorization per resource. A key sees its tenant's resources only, and
// of those only the ones on topics its scopes cover:
//
//   - A subscription needs subscribe:<its topic>; a transaction needs
//     transact:<its topic>. For every operation on an existing one (get,
//     update, pause, resume, rotate, dead letters, delete; get, commit,
//     rollback) a key without that scope gets the same 404 as for another
//     tenant's or a missing id, so it learns nothing about resources on
//     topics it may not use. A key without the action on any topic gets
//     403 forbidden first (that says nothing about the resource).
//   - Creating a subscription or beginning a transaction names the topic:
//     403 forbidden when the scope does not cover it.
//   - Lists show only the resources the key could get; a page may hold
//     fewer items than the limit (even none) and still have a next cursor.
//   - A producer is not tied to a topic: its check webhook decides the
//     transactions begun with it on any topic, so creating, changing,
//     rotating the secret of and deleting a producer take transact on every
//     topic (transact:* or admin); otherwise 403 forbidden. Reading
//     producers (get, list; no secret) takes any transact scope, and any
//     transact key may begin transactions with any producer of its tenant.

// visibleTopic reports whether the caller may see resources of action on
// topic; when not, it returns notFound, the resource's own 404.
func visibleTopic(ctx context.Context, action, topic string, notFound problem.Kind, detail string) error {
	if !principal(ctx).Allows(action, topic) {
		return problem.New(notFound, detail)
	}
	return nil
}

// requireProducerAdmin lets through keys that may run transactions on
// every topic.
func requireProducerAdmin(ctx context.Context) error {
	if !principal(ctx).AllowsAll("transact") {
		return problem.New(problem.Forbidden, "managing producers takes the transact:* or admin scope: a producer's check webhook decides transactions on every topic")
	}
	return nil
}
