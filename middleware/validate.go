package middleware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/go-chi/chi/v5"

	"github.com/zeroloss/zeroloss/internal/problem"
)

// Validator checks requests against the OpenAPI contract before a handler
// runs. Requests for paths the contract does not describe pass through, so
// the router answers them with its 404 or 405.
type Validator struct {
	router   routers.Router
	writeErr ErrorWriter
	doc      *openapi3.T
	fast     map[string]BodyDecoder
	// checks are the typed parameter checks (WithParamCheck), by "in name".
	checks map[string]func(string) bool
	// direct are the operations, by method and route pattern, whose
	// parameters all have a typed check: a request whose body their
	// decoder accepts and whose parameters pass skips kin-openapi.
	direct map[string]directOp
}

// directOp is an operation validated without kin-openapi when it can be.
type directOp struct {
	decode BodyDecoder
	params []directParam
}

type directParam struct {
	in, name string
	required bool
	ok       func(string) bool
}

// BodyDecoder decodes an operation's request body in one pass and reports
// whether the contract's schema certainly accepts it (send.DecodeMessage).
// It must never accept a body the schema refuses; it may decline any body
// it is unsure of, which is then validated against the contract as usual.
type BodyDecoder func(body []byte) (any, bool)

// Decoded returns the request body a BodyDecoder accepted, or nil when the
// body went through the generic validation (the handler decodes it then).
func Decoded(ctx context.Context) any {
	return ctx.Value(decodedKey{})
}

type decodedKey struct{}

// WithBodyDecoder lets requests for the operation method + " " + path
// template (as in the contract: "POST /v1/topics/{topic}/messages") skip
// the generic body validation when dec accepts the body: their parameters
// are still validated against the contract, and dec's result is handed on
// (Decoded), so the body is decoded once.
//
// When every parameter of the operation (path and header ones only) has a
// check registered with WithParamCheck before, such a request skips
// kin-openapi altogether: the parameters are read from the router's match
// (chi) and the headers, and checked by those checks. A request any check
// declines, or with a parameter of another kind, takes the generic way.
func (v *Validator) WithBodyDecoder(operation string, dec BodyDecoder) {
	if v.fast == nil {
		v.fast = map[string]BodyDecoder{}
	}
	v.fast[operation] = dec
	method, path, _ := strings.Cut(operation, " ")
	item := v.doc.Paths.Find(path)
	if item == nil || item.GetOperation(method) == nil {
		return
	}
	params, ok := directParams(item, method, v.checks)
	if !ok {
		return
	}
	v.setDirect(operation, directOp{decode: dec, params: params})
}

// directParams returns the checks of every parameter of the operation
// method on item, from checks (by "in name"); false when one has none or
// is not a path or header parameter.
func directParams(item *openapi3.PathItem, method string, checks map[string]func(string) bool) ([]directParam, bool) {
	var params []directParam
	for _, refs := range []openapi3.Parameters{item.Parameters, item.GetOperation(method).Parameters} {
		for _, ref := range refs {
			p := ref.Value
			ok := checks[p.In+" "+p.Name]
			if ok == nil || (p.In != openapi3.ParameterInPath && p.In != openapi3.ParameterInHeader) {
				return nil, false
			}
			params = append(params, directParam{in: p.In, name: p.Name, required: p.Required, ok: ok})
		}
	}
	return params, true
}

func (v *Validator) setDirect(operation string, op directOp) {
	if v.direct == nil {
		v.direct = map[string]directOp{}
	}
	v.direct[operation] = op
}

// WithoutBody lets requests for operation (method + " " + path template,
// as in the contract), which takes no request body, skip kin-openapi when
// they carry no body and each parameter passes its check in checks (by
// "in name", e.g. "path id"; the checks are this operation's alone, since
// a name like id means another schema elsewhere). Each check must never
// accept a value the parameter's schema refuses. An operation with a
// request body, or with a parameter that has no check or is not a path or
// header one, is left to kin-openapi, as is a request with a body.
func (v *Validator) WithoutBody(operation string, checks map[string]func(string) bool) {
	method, path, _ := strings.Cut(operation, " ")
	item := v.doc.Paths.Find(path)
	if item == nil || item.GetOperation(method) == nil || item.GetOperation(method).RequestBody != nil {
		return
	}
	params, ok := directParams(item, method, checks)
	if !ok {
		return
	}
	v.setDirect(operation, directOp{params: params})
}

// WithParamCheck registers the typed check of the parameter name in in
// ("path", "header"), for the operations given a BodyDecoder after it. ok
// must never accept a value the parameter's schema refuses; it may decline
// any it is unsure of (the request is then validated the generic way).
func (v *Validator) WithParamCheck(in, name string, ok func(string) bool) {
	if v.checks == nil {
		v.checks = map[string]func(string) bool{}
	}
	v.checks[in+" "+name] = ok
}

// validDirect validates r without kin-openapi when its operation allows
// it; it returns the decoded body, or ok false (the generic way then
// decides).
func (v *Validator) validDirect(r *http.Request) (any, bool) {
	rc := chi.RouteContext(r.Context())
	if rc == nil || len(v.direct) == 0 {
		return nil, false
	}
	op, found := v.direct[r.Method+" "+rc.RoutePattern()]
	if !found {
		return nil, false
	}
	for _, p := range op.params {
		var val string
		switch p.in {
		case openapi3.ParameterInPath:
			val = rc.URLParam(p.name)
		default:
			vals, present := r.Header[http.CanonicalHeaderKey(p.name)]
			if !present {
				if p.required {
					return nil, false
				}
				continue
			}
			if len(vals) != 1 {
				return nil, false
			}
			val = vals[0]
		}
		if !p.ok(val) {
			return nil, false
		}
	}
	body, err := bufferedBody(r)
	if op.decode == nil { // WithoutBody
		return nil, err == nil && len(body) == 0
	}
	if err != nil || len(body) == 0 {
		return nil, false
	}
	return op.decode(body)
}

// NewValidator builds a Validator for doc. Authentication is checked by
// Authenticate, not here.
//
// The contract is OpenAPI 3.0 but writes the rule for property names with
// JSON Schema draft 4's patternProperties (3.0 has no keyword for names), so
// schema-driven tools generate valid names; kin-openapi accepts the keyword
// when told to and its 3.0 validator ignores it, so the handlers enforce
// that rule.
func NewValidator(doc *openapi3.T, writeErr ErrorWriter) (*Validator, error) {
	doc.Servers = nil // match on paths only, whatever host the gateway serves
	// Authenticate checks the API key; the contract's security
	// requirements would only be run through a no-op here, at a cost per
	// request.
	doc.Security = nil
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			op.Security = nil
		}
	}
	rt, err := legacy.NewRouter(doc, openapi3.AllowExtraSiblingFields("patternProperties"))
	if err != nil {
		return nil, fmt.Errorf("middleware: contract router: %w", err)
	}
	return &Validator{router: rt, writeErr: writeErr, doc: doc}, nil
}

// Middleware validates each request; a request that breaks the contract is
// answered with a 400 problem listing every offending field.
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if decoded, ok := v.validDirect(r); ok {
			if decoded != nil {
				r = r.WithContext(context.WithValue(r.Context(), decodedKey{}, decoded))
			}
			next.ServeHTTP(w, r)
			return
		}
		route, params, err := v.router.FindRoute(r)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		opts := &openapi3filter.Options{
			MultiError:          true,
			AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
			SkipSettingDefaults: true,
		}
		var decoded any
		if dec := v.fast[route.Method+" "+route.Path]; dec != nil {
			if body, err := bufferedBody(r); err == nil && len(body) > 0 {
				if d, ok := dec(body); ok {
					decoded = d
					opts.ExcludeRequestBody = true
				}
			}
		}
		in := &openapi3filter.RequestValidationInput{
			Request:    r,
			PathParams: params,
			Route:      route,
			Options:    opts,
		}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			v.writeErr(w, r, ValidationProblem(err))
			return
		}
		if decoded != nil {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), decodedKey{}, decoded)))
			return
		}
		// ValidateRequest consumed the body; hand the buffered copy on.
		if r.GetBody != nil {
			if body, err := r.GetBody(); err == nil {
				r.Body = body
			}
		}
		next.ServeHTTP(w, r)
	})
}

// ValidationProblem turns a kin-openapi validation error into a problem: 400
// validation with one entry per field, invalid-topic when the topic is the
// culprit, invalid-json when the body does not parse.
func ValidationProblem(err error) *problem.Error {
	var fields []problem.FieldError
	kind := problem.Validation
	collectFieldErrors(err, &fields, &kind)
	if len(fields) == 0 {
		fields = append(fields, problem.FieldError{Field: "", Reason: "request does not match the contract"})
	}
	detail := fmt.Sprintf("%d field(s) break the contract; see errors", len(fields))
	switch kind {
	case problem.InvalidTopic:
		detail = "a topic is 1 to 127 characters of A-Z a-z 0-9 _ - and not one RocketMQ reserves"
	case problem.InvalidWebhookURL:
		detail = "a webhook URL is an absolute http(s) URL without user info or fragment"
	case problem.InvalidJSON:
		detail = "the body is not a valid JSON document"
	}
	return problem.Wrap(kind, detail, err).WithFields(fields...)
}

func collectFieldErrors(err error, out *[]problem.FieldError, kind *problem.Kind) {
	// Only a top-level MultiError is a list of request errors; one nested in
	// a RequestError is that parameter's or body's list of schema errors.
	if multi, ok := err.(openapi3.MultiError); ok {
		for _, e := range multi {
			collectFieldErrors(e, out, kind)
		}
		return
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		switch {
		case re.Parameter != nil:
			field := re.Parameter.In + ":" + re.Parameter.Name
			if re.Parameter.In == openapi3.ParameterInPath && re.Parameter.Name == "topic" {
				*kind = problem.InvalidTopic
			}
			*out = append(*out, problem.FieldError{Field: field, Reason: reasonOf(re)})
			return
		case re.RequestBody != nil:
			var pe *openapi3filter.ParseError
			if errors.As(re.Err, &pe) {
				if *kind == problem.Validation {
					*kind = problem.InvalidJSON
				}
				*out = append(*out, problem.FieldError{Field: "/", Reason: "body is not valid JSON"})
				return
			}
			if re.Err != nil {
				before := len(*out)
				collectSchemaErrors(re.Err, out)
				for _, fe := range (*out)[before:] {
					if k, ok := fieldKinds[fe.Field]; ok && *kind == problem.Validation {
						*kind = k
					}
				}
				if len(*out) > before {
					return
				}
			}
			*out = append(*out, problem.FieldError{Field: "/", Reason: reasonOf(re)})
			return
		}
		*out = append(*out, problem.FieldError{Field: "", Reason: reasonOf(re)})
		return
	}
	collectSchemaErrors(err, out)
}

// fieldKinds are the body fields whose refusal has a problem type of its
// own, the same the handlers give for what the contract cannot express.
var fieldKinds = map[string]problem.Kind{
	"/topic":    problem.InvalidTopic,
	"/endpoint": problem.InvalidWebhookURL,
	"/checkUrl": problem.InvalidWebhookURL,
}

// maxPatternInReason keeps kin-openapi's reason short: a longer pattern
// (the webhook URL's) is named, not repeated.
const maxPatternInReason = 100

func collectSchemaErrors(err error, out *[]problem.FieldError) {
	var multi openapi3.MultiError
	if errors.As(err, &multi) && len(multi) > 0 {
		for _, e := range multi {
			collectSchemaErrors(e, out)
		}
		return
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		field := "/" + strings.Join(se.JSONPointer(), "/")
		reason := se.Reason
		if se.SchemaField == "pattern" && se.Schema != nil && len(se.Schema.Pattern) > maxPatternInReason {
			reason = "string doesn't match the pattern of the contract (see the field's schema)"
		}
		if se.SchemaField == "not" {
			field, reason = excluded(se, field)
		}
		*out = append(*out, problem.FieldError{Field: field, Reason: reason})
	}
}

// excluded explains a value that matched a schema's "not": the contract
// writes each excluded case (alone, or as one branch of an anyOf) with a
// description, the reason, and an optional x-field, the property of the
// object the reason is about.
func excluded(se *openapi3.SchemaError, field string) (string, string) {
	reason := "the value is one the contract excludes"
	if se.Schema == nil || se.Schema.Not == nil || se.Schema.Not.Value == nil {
		return field, reason
	}
	not := se.Schema.Not.Value
	branch := not
	for _, b := range not.AnyOf {
		if b.Value != nil && b.Value.VisitJSON(se.Value, openapi3.MultiErrors()) == nil {
			branch = b.Value
			break
		}
	}
	for _, s := range []*openapi3.Schema{branch, not} {
		if s.Description != "" {
			reason = s.Description
			break
		}
	}
	if name, ok := branch.Extensions["x-field"].(string); ok && name != "" {
		field = strings.TrimSuffix(field, "/") + "/" + name
	}
	return field, reason
}

func reasonOf(re *openapi3filter.RequestError) string {
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) && se.Reason != "" {
		return se.Reason
	}
	if re.Reason != "" {
		return re.Reason
	}
	return "invalid value"
}
