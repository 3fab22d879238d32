// Step 1: Redirect user to authorization endpoint
function authorize() {
const authUrl = 'https://example.com/api/authorize.php?' +
new URLSearchParams({
client_id: 'YOUR_CLIENT_ID',
redirect_uri: 'YOUR_REDIRECT_URI',
response_type: 'code'
});
window.location.href = authUrl;
}
// Step 2: Handle the authorization code (on your redirect URI page)
async function handleRedirect() {
const urlParams = new URLSearchParams(window.location.search);
const code = urlParams.get('code');
if (code) {
// Step 3: Exchange the code for an access token (via your backend)
const tokenResponse = await fetch('/your-backend-endpoint', {
method: 'POST',
headers: {
'Content-Type': 'application/json'
},
body: JSON.stringify({ code })
});
const tokenData = await tokenResponse.json();
const accessToken = tokenData.access_token;
// Step 4: Use the access token to make API requests
const userResponse = await fetch('https://example.com/api/userinfo.php', {
headers: {
'Authorization': `Bearer ${accessToken}`
}
});
const userData = await userResponse.json();
console.log('User data:', userData);
}
}
