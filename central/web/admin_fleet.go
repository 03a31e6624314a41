package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/anshim/anshim/central/store"
)

// adminFleetPage is the data of admin_fleet.html.
type adminFleetPage struct {
	Attention bool // only the kiosks needing attention
	Devices   []fleetRow
	Error     string
}

// fleetRow is a kiosk with why it needs attention.
type fleetRow struct {
	FleetDevice
	Why []string
}

// adminFleet lists every kiosk (?attention=1: those needing attention).
func (wb *Web) adminFleet(w http.ResponseWriter, r *http.Request) {
	wb.renderFleet(w, r, http.StatusOK, "")
}

func (wb *Web) renderFleet(w http.ResponseWriter, r *http.Request, status int, errKey string) {
	if wb.opts.Admin == nil {
		wb.serverError(w, r, errors.New("no Admin in the web's options"))
		return
	}
	fleet, err := wb.opts.Admin.Fleet(r.Context())
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	data := adminFleetPage{Attention: r.URL.Query().Get("attention") == "1", Error: errKey}
	now := wb.now()
	for _, d := range fleet {
		why := d.Attention(now)
		if data.Attention && len(why) == 0 {
			continue
		}
		data.Devices = append(data.Devices, fleetRow{FleetDevice: d, Why: why})
	}
	wb.render(w, r, status, "admin_fleet", data)
}

// adminFleetDecommission decommissions a kiosk: its NATS credentials
// stop working. The form must repeat the kiosk's id as a confirmation.
func (wb *Web) adminFleetDecommission(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if strings.TrimSpace(r.PostFormValue("confirm")) != id {
		wb.renderFleet(w, r, http.StatusBadRequest, "admin.fleet.confirm.mismatch")
		return
	}
	err := wb.opts.Admin.Decommission(r.Context(), stateOf(r).Account.Name, id, strings.TrimSpace(r.PostFormValue("reason")))
	switch {
	case errors.Is(err, store.ErrNotFound):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/fleet", http.StatusSeeOther)
}
