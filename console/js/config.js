// The deployment's settings, written next to index.html by the local system or by the deploy:
// {apiBaseUrl, region, userPoolId, userPoolClientId, cognitoEndpoint}.
const REQUIRED = ["apiBaseUrl", "userPoolClientId", "cognitoEndpoint"];

export async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json could not be loaded (HTTP ${response.status})`);
  const config = await response.json();
  const missing = REQUIRED.filter((key) => !config[key]);
  if (missing.length) throw new Error(`config.json lacks ${missing.join(", ")}`);
  return { ...config, apiBaseUrl: config.apiBaseUrl.replace(/\/+$/, "") };
}
