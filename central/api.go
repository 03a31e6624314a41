package central

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/sync/wire"
)

// MaxRequestBytes bounds an HTTP request body.
const MaxRequestBytes = 64 << 10

// Handler returns the HTTP API:
//
//	POST /v1/enroll                 {"token","device_key","nkey"} → wire.Enrollment
//	POST /v1/venues                 registry.Registration → venue  (admin)
//	GET  /v1/venues/{id}            → venue                        (admin)
//	POST /v1/venues/{id}/status     {"status"} → venue             (admin)
//	POST /v1/venues/{id}/debounce   {"window"} → venue             (admin)
//	POST /v1/venues/{id}/tokens     → {"token","venue","expires"}  (admin)
//	POST /v1/venues/{id}/poster     → {"venue","poster","key_id","issued"} (admin)
//	GET  /v1/devices                → [DeviceStats]                (admin)
//	POST /v1/revocations            {"id"} → {"id","revoked"}      (admin)
//	POST /v1/api-tokens             {"name","role"} → NewAPIToken  (admin)
//	GET  /v1/api-tokens             → [APITokenInfo]               (admin)
//	POST /v1/api-tokens/{name}/revoke → APITokenInfo               (admin)
//	GET  /health                    → {"status","nats_connected"}
//	GET  /metrics                   → Prometheus text counters
//
// Admin routes want "Authorization: Bearer TOKEN" with the token of
// DATA/admin.token or a named API token of role admin (token_api.go); a
// valid token of another role is answered 403. The account is named in
// the audit event of every change. Errors are JSON {"error": "..."}. A venue is a
// store.Venue; a registration with bad fields is refused with 400 and an
// error naming each ("invalid request: business_number: check digit does
// not match"), a taken id or business number with 409; tokens and posters
// of a venue that is not approved, and a status change the registry does
// not allow, with 409.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/enroll", s.api(s.handleEnroll)) // wire.EnrollPath
	mux.Handle("POST /v1/venues", s.api(s.admin(s.handleAddVenue)))
	mux.Handle("GET /v1/venues/{id}", s.api(s.admin(s.handleVenue)))
	mux.Handle("POST /v1/venues/{id}/status", s.api(s.admin(s.handleVenueStatus)))
	mux.Handle("POST /v1/venues/{id}/debounce", s.api(s.admin(s.handleVenueDebounce)))
	mux.Handle("POST /v1/venues/{id}/tokens", s.api(s.admin(s.handleNewToken)))
	mux.Handle("POST /v1/venues/{id}/poster", s.api(s.admin(s.handlePoster)))
	mux.Handle("GET /v1/devices", s.api(s.admin(s.handleDevices)))
	mux.Handle("GET /v1/backup", s.api(s.admin(s.handleBackup))) // backup.go
	mux.Handle("POST /v1/revocations", s.api(s.admin(s.handleRevoke)))
	s.tokenRoutes(mux) // /v1/api-tokens… (admin): named API tokens, see token_api.go
	s.vaultRoutes(mux) // POST /v1/persons… (admin): the identity vault, see vault_api.go
	s.traceRoutes(mux) // POST /v1/traces, GET /v1/traces/{id} (investigator): see trace_api.go
	s.followUpRoutes(mux)
	s.checkinRoutes(mux)
	s.appRoutes(mux)    // /v1/app/… (the visitor app's session): see app_api.go
	s.ledgerRoutes(mux) // GET /v1/ledger/… (public, read-only): see ledger_api.go
	s.webRoutes(mux)    // the web pages (central/web) and /v1/accounts… (admin): see web_mount.go
	mux.Handle("GET /health", s.api(s.handleHealth))
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	return http.MaxBytesHandler(s.metrics.instrument(mux), MaxRequestBytes)
}

// apiFunc handles a request and returns the response value, its status
// (0 means 200) and an error.
type apiFunc func(r *http.Request) (any, int, error)

// errUnauthorized: a missing, wrong or revoked token.
var errUnauthorized = errors.New("missing or wrong admin token (Authorization: Bearer <DATA/admin.token> or a named API token)")

// api turns an apiFunc into a handler that writes JSON.
func (s *Server) api(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.metrics.httpRequests.Add(1)
		v, code, err := f(r)
		if err != nil {
			code = statusOf(err)
			msg := err.Error()
			if code >= 500 {
				s.metrics.httpErrors.Add(1)
				s.log.Error("HTTP request failed", "method", r.Method, "path", r.URL.Path, "err", err)
				if code == http.StatusInternalServerError {
					msg = "internal error (see the central's log)"
				}
			}
			v = map[string]string{"error": msg}
		}
		if code == 0 {
			code = http.StatusOK
		}
		if st, ok := v.(*streamed); ok {
			st.serve(w, code, s.log)
			return
		}
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			s.log.Error("HTTP response", "path", r.URL.Path, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		w.Write(append(data, '\n'))
	})
}

// statusOf maps an error to an HTTP status.
func statusOf(err error) int {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, errForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrBadToken):
		return http.StatusForbidden
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrExists), errors.Is(err, ErrNotApproved), errors.Is(err, ErrVenueMismatch), errors.As(err, new(*registry.TransitionError)):
		return http.StatusConflict
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, nats.ErrConnectionReconnecting), errors.Is(err, nats.ErrReconnectBufExceeded),
		errors.Is(err, jetstream.ErrNoHeartbeat), errors.Is(err, jetstream.ErrJetStreamNotEnabled),
		errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// admin wraps f with the check of an admin account (DATA/admin.token or
// a named token of role admin), which f's request context carries for the
// audit trail.
func (s *Server) admin(f apiFunc) apiFunc {
	return func(r *http.Request) (any, int, error) {
		a, err := s.account(r, "")
		if err != nil {
			return nil, 0, err
		}
		if a.Role != RoleAdmin {
			return nil, 0, fmt.Errorf("%w: the token of %s (%s) is not an admin's", errForbidden, a.Name, a.Role)
		}
		return f(r.WithContext(withAccount(r.Context(), a)))
	}
}

// decodeJSON decodes a request body of one JSON object into v, refusing
// unknown fields. An empty body leaves v as it is when empty is true.
func decodeJSON(r *http.Request, v any, empty bool) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return fmt.Errorf("%w: read body: %v", ErrInvalid, err)
	}
	if empty && len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: JSON body: %v", ErrInvalid, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: JSON body: data after the object", ErrInvalid)
	}
	return nil
}

func (s *Server) handleEnroll(r *http.Request) (any, int, error) {
	var req wire.EnrollRequest
	if err := decodeJSON(r, &req, false); err != nil {
		s.metrics.enrollFailures.Add(1)
		return nil, 0, err
	}
	e, err := s.Enroll(r.Context(), req)
	return e, 0, err
}

func (s *Server) handleAddVenue(r *http.Request) (any, int, error) {
	var req registry.Registration
	if err := decodeJSON(r, &req, false); err != nil {
		return nil, 0, err
	}
	v, err := s.RegisterVenue(r.Context(), req)
	return v, http.StatusCreated, err
}

func (s *Server) handleVenue(r *http.Request) (any, int, error) {
	v, err := s.Venue(r.Context(), r.PathValue("id"))
	return v, 0, err
}

func (s *Server) handleVenueStatus(r *http.Request) (any, int, error) {
	var req struct {
		Status string `json:"status"`
	}
	if err := decodeJSON(r, &req, false); err != nil {
		return nil, 0, err
	}
	st, err := registry.ParseStatus(req.Status)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: status: %v", ErrInvalid, err)
	}
	v, err := s.SetVenueStatus(r.Context(), r.PathValue("id"), st)
	return v, 0, err
}

func (s *Server) handleVenueDebounce(r *http.Request) (any, int, error) {
	var req struct {
		Window string `json:"window"`
	}
	if err := decodeJSON(r, &req, false); err != nil {
		return nil, 0, err
	}
	d, err := ParseDebounceWindow(req.Window)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: window: %v", ErrInvalid, err)
	}
	v, err := s.SetVenueDebounce(r.Context(), r.PathValue("id"), d)
	return v, 0, err
}

func (s *Server) handlePoster(r *http.Request) (any, int, error) {
	var req struct{}
	if err := decodeJSON(r, &req, true); err != nil {
		return nil, 0, err
	}
	p, err := s.Poster(r.Context(), r.PathValue("id"))
	return p, http.StatusCreated, err
}

func (s *Server) handleNewToken(r *http.Request) (any, int, error) {
	var req struct{}
	if err := decodeJSON(r, &req, true); err != nil {
		return nil, 0, err
	}
	t, err := s.newToken(r.Context(), r.PathValue("id"))
	return t, http.StatusCreated, err
}

func (s *Server) handleDevices(r *http.Request) (any, int, error) {
	d, err := s.Devices(r.Context())
	return d, 0, err
}

func (s *Server) handleRevoke(r *http.Request) (any, int, error) {
	var req struct {
		ID string `json:"id"`
	}
	if err := decodeJSON(r, &req, false); err != nil {
		return nil, 0, err
	}
	if err := s.Revoke(r.Context(), req.ID); err != nil {
		return nil, 0, err
	}
	return map[string]any{"id": req.ID, "revoked": true}, 0, nil
}

func (s *Server) handleHealth(r *http.Request) (any, int, error) {
	up := s.nc != nil && s.nc.IsConnected()
	if !up {
		return map[string]any{"status": "degraded", "nats_connected": false}, http.StatusServiceUnavailable, nil
	}
	return map[string]any{"status": "ok", "nats_connected": true}, 0, nil
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s.metrics.httpRequests.Add(1)
	var b bytes.Buffer
	if err := s.writeMetrics(r.Context(), &b); err != nil {
		s.metrics.httpErrors.Add(1)
		s.log.Error("metrics", "err", err)
		http.Error(w, "metrics unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(b.Bytes())
}
