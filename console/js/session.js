// Sign-in against the Cognito user pool (USER_PASSWORD_AUTH with the app client, as `python -m local token`
// does). The API takes the ID token; it lives in sessionStorage, so closing the tab signs out. Signing out
// revokes the refresh token with Cognito (RevokeToken): a copy of it taken from this tab refreshes nothing.
const KEY = "cms.session";
const SERVICE = "AWSCognitoIdentityProviderService";

export class SignInError extends Error {}

export class Session {
  constructor(config) {
    this.config = config;
    this.state = JSON.parse(sessionStorage.getItem(KEY) || "null");
    this.listeners = [];
  }

  get signedIn() {
    return Boolean(this.state && this.state.idToken);
  }

  get user() {
    if (!this.signedIn) return null;
    const claims = decodeJwt(this.state.idToken);
    return {
      username: claims["cognito:username"] || claims.username || claims.sub,
      groups: claims["cognito:groups"] || [],
      team: claims["custom:team"] || null,
    };
  }

  can(...roles) {
    const user = this.user;
    return Boolean(user && user.groups.some((group) => group === "admin" || roles.includes(group)));
  }

  onChange(listener) {
    this.listeners.push(listener);
  }

  async signIn(username, password) {
    const result = await this.initiateAuth("USER_PASSWORD_AUTH", { USERNAME: username, PASSWORD: password });
    this.store(result, null);
  }

  // Forgets the session at once; the refresh token's revocation follows (its promise is returned).
  signOut(reason) {
    const refreshToken = this.state && this.state.refreshToken;
    this.state = null;
    sessionStorage.removeItem(KEY);
    this.listeners.forEach((listener) => listener(reason));
    return refreshToken ? this.revoke(refreshToken) : Promise.resolve();
  }

  // Best effort: the tab has forgotten the token either way. Unreachable or refused (a token Cognito no
  // longer knows), the outcome changes nothing here; a token never revoked lapses after RefreshTokenValidity.
  async revoke(refreshToken) {
    await this.call("RevokeToken", { Token: refreshToken, ClientId: this.config.userPoolClientId }).catch(() => null);
  }

  // A valid ID token, refreshed shortly before it expires (once, however many calls wait for it).
  async idToken() {
    if (!this.signedIn) throw new SignInError("You are signed out.");
    if (Date.now() > this.state.expiresAt - 60_000 && this.state.refreshToken) {
      this.refreshing = this.refreshing || this.refresh().finally(() => { this.refreshing = null; });
      await this.refreshing;
    }
    return this.state.idToken;
  }

  async refresh() {
    try {
      const result = await this.initiateAuth("REFRESH_TOKEN_AUTH", { REFRESH_TOKEN: this.state.refreshToken });
      this.store(result, this.state.refreshToken);
    } catch (error) {
      this.signOut("Your session has expired. Please sign in again.");
      throw error;
    }
  }

  store(result, previousRefreshToken) {
    this.state = {
      idToken: result.IdToken,
      refreshToken: result.RefreshToken || previousRefreshToken,
      expiresAt: Date.now() + (result.ExpiresIn || 3600) * 1000,
    };
    sessionStorage.setItem(KEY, JSON.stringify(this.state));
  }

  // One call of Cognito's user pool API: [response, its JSON body].
  async call(action, payload) {
    const response = await fetch(this.config.cognitoEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `${SERVICE}.${action}` },
      body: JSON.stringify(payload),
    });
    const body = await response.json().catch(() => ({}));
    return [response, body];
  }

  async initiateAuth(flow, parameters) {
    let response, body;
    try {
      [response, body] = await this.call("InitiateAuth", {
        AuthFlow: flow, ClientId: this.config.userPoolClientId, AuthParameters: parameters,
      });
    } catch {
      throw new SignInError("The sign-in service cannot be reached. Check your connection and try again.");
    }
    if (!response.ok) {
      const type = String(body.__type || "").split("#").pop();
      if (type === "NotAuthorizedException" || type === "UserNotFoundException") {
        throw new SignInError("The user name or password is wrong.");
      }
      throw new SignInError(body.message || `Sign-in failed (HTTP ${response.status}).`);
    }
    if (body.ChallengeName) {
      throw new SignInError(`This account needs a step the console does not offer yet (${body.ChallengeName}).`);
    }
    return body.AuthenticationResult;
  }
}

export function decodeJwt(token) {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const json = decodeURIComponent(Array.from(atob(payload), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""));
  return JSON.parse(json);
}
