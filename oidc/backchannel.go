package oidc

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/rosterhq/roster/core"
)

// backchannelTimeout bounds one logout notification.
const backchannelTimeout = 5 * time.Second

// logout ends the user's catalog sign-in (core.OIDCLogout); the core then
// tells the door (CatalogLoggedOut), as it does for a catalog logout
// through the admin API.
func (d *Door) logout(ctx context.Context, userID string) error {
	return d.svc.OIDCLogout(ctx, orgOf(ctx).ID, userID)
}

// CatalogLoggedOut implements core.CatalogLogoutListener: it tells every
// app that held a token of the user and asked to be told (OpenID Connect
// Back-Channel Logout 1.0): a signed logout token POSTed to its
// backchannel_logout_uri. The notices go out after the answer, each
// bounded; a failure is logged, the logout stands.
func (d *Door) CatalogLoggedOut(ctx context.Context, ev core.CatalogLogout) {
	ctx = context.WithoutCancel(ctx)
	key, _, err := d.keys.get(ctx)
	if err != nil {
		d.log.Error("oidc back-channel logout: signing key", "err", err)
		return
	}
	issuer := d.public + "/oidc/" + url.PathEscape(ev.OrgName)
	for _, c := range ev.Apps {
		go d.notify(ctx, key, issuer, c, ev.UserID)
	}
}

func (d *Door) notify(ctx context.Context, key *signingKey, issuer string, c core.OIDCClient, userID string) {
	ctx, cancel := context.WithTimeout(ctx, backchannelTimeout)
	defer cancel()
	if err := d.sendLogoutToken(ctx, key, issuer, c, userID); err != nil {
		d.log.Warn("oidc back-channel logout failed", "app_id", c.AppID, "err", err)
	}
}

func (d *Door) sendLogoutToken(ctx context.Context, key *signingKey, issuer string, c core.OIDCClient, userID string) error {
	claims := oidc.NewLogoutTokenClaims(issuer, userID, oidc.Audience{c.AppID}, time.Now().Add(2*time.Minute), uuid.NewString(), "", 0)
	signer, err := op.SignerFromKey(key)
	if err != nil {
		return fmt.Errorf("signer: %w", err)
	}
	tok, err := crypto.Sign(claims, signer)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI, strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%s answered %d", c.BackchannelLogoutURI, res.StatusCode)
	}
	return nil
}
