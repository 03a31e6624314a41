package central

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/appcheckin"
)

// Rate limits of POST /v1/checkins: a pass may check in a few times in a
// row and then every 10 s; a client address (a carrier NAT holds many
// phones) 60 at once, then 10 a second.
const (
	checkinPassEvery   = 10 * time.Second
	checkinPassBurst   = 5
	checkinClientEvery = 100 * time.Millisecond
	checkinClientBurst = 60
)

// checkinRoutes adds the visitor app's check-in (no admin token):
//
//	POST /v1/checkins  {"pass","code","lat","lon","accuracy","scanned_at","exit","client_id"}
//	                   → {"result":"accepted"|"rejected"|"duplicate","reason","flags":[…],"venue","venue_name","detail","time"}
//
// 200 accepted (flags "suspect", "impossible-travel", "late-offline" may
// be set) or duplicate (the same person at the venue within its debounce
// window, "time" the first check-in's; or a resend of a client_id,
// answered as the first time); 403 rejected, with a reason of
// central/appcheckin ("stale-period", "unknown-device", "wrong-venue",
// "pass-revoked", "pass-expired", "scan-too-old", …); 400 "bad-location",
// "bad-client-id", "bad-time" or a malformed body; 429 "rate-limited" (per
// pass and per client address). A bearer session of the app may be sent;
// the pass alone decides.
func (s *Server) checkinRoutes(mux *http.ServeMux) {
	key, err := s.appKey()
	var svc *appcheckin.Service
	if err == nil {
		svc, err = appcheckin.New(appcheckin.Config{
			Store:     s.store,
			DayKeys:   s.dayKeys,
			PassKeys:  s.keys.PassKeys(),
			Revoked:   s.passRevoked,
			Seen:      s.seen.add,
			ClientKey: subKey(key, "checkin-client"),
			Now:       s.now,
			Log:       s.log.With("component", "app-checkin"),
		})
	}
	perPass := appcheckin.NewLimiter(checkinPassEvery, checkinPassBurst, s.now)
	perClient := appcheckin.NewLimiter(checkinClientEvery, checkinClientBurst, s.now)
	mux.Handle("POST /v1/checkins", s.api(func(r *http.Request) (any, int, error) {
		if err != nil {
			return nil, 0, err
		}
		var req appcheckin.Request
		if err := decodeJSON(r, &req, false); err != nil {
			return nil, 0, err
		}
		host := s.clients.Key(r)
		passKey := sha256.Sum256([]byte(req.Pass))
		if !perClient.Allow(host) || !perPass.Allow(string(passKey[:])) {
			return appcheckin.Result{Result: appcheckin.Rejected, Reason: appcheckin.ReasonRateLimited, Flags: []string{},
				Detail: "too many check-ins: wait a few seconds"}, http.StatusTooManyRequests, nil
		}
		res, err := svc.CheckIn(r.Context(), req)
		switch {
		case err != nil:
			return nil, 0, err
		case res.Reason == appcheckin.ReasonBadLocation, res.Reason == appcheckin.ReasonBadClientID, res.Reason == appcheckin.ReasonBadTime:
			return res, http.StatusBadRequest, nil
		case res.Result == appcheckin.Rejected:
			return res, http.StatusForbidden, nil
		}
		return res, 0, nil
	}))
}

// passRevoked reports whether the revocation id is in the revoked bucket,
// the list every kiosk follows.
func (s *Server) passRevoked(ctx context.Context, id string) (bool, error) {
	if s.kv == nil {
		return false, errors.New("revocation list: not started")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := s.kv.revoked.Get(ctx, id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	}
	return false, err
}
