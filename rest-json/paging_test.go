package restbank_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/bank"
)

// A page with a next page carries its token twice: next_page_token in the
// body and a Link header (RFC 8288) whose target, followed as it is, is
// that next page; the last page has neither.
func TestStatementLinkHeader(t *testing.T) {
	f := startServer(t)
	month := string(bank.MonthOf(timeNow()))
	for k := range 3 {
		req, _ := http.NewRequest("POST", f.url+"/v1/accounts/000000004/deposits", strings.NewReader(`{"amount":7}`))
		req.Header.Set("Idempotency-Key", fmt.Sprint("link-", k))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("deposit: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	link := regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
	next := "/v1/accounts/000000004/statements/" + month + "?page_size=2"
	var ids []int64
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("more than 3 pages")
		}
		resp, err := http.Get(f.url + next)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", next, resp, err)
		}
		var body struct {
			Transactions []struct {
				ID int64 `json:"id"`
			} `json:"transactions"`
			NextPageToken *string `json:"next_page_token"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range body.Transactions {
			ids = append(ids, tx.ID)
		}
		h := resp.Header.Values("Link")
		if body.NextPageToken == nil {
			if len(h) != 0 {
				t.Fatalf("last page has Link %q", h)
			}
			next = ""
			continue
		}
		if *body.NextPageToken == "" || len(h) != 1 || !link.MatchString(h[0]) {
			t.Fatalf("page with next_page_token %q has Link %q", *body.NextPageToken, h)
		}
		next = link.FindStringSubmatch(h[0])[1]
		if want := "page_size=2&page_token=" + *body.NextPageToken; !regexp.MustCompile(regexp.QuoteMeta(want) + "$").MatchString(next) {
			t.Fatalf("Link target %q does not end in %q", next, want)
		}
	}
	if len(ids) != 3 || ids[0] >= ids[1] || ids[1] >= ids[2] {
		t.Fatalf("pages gave transactions %v, want 3 in order", ids)
	}
}
