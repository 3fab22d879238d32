<?php
// Step 2: Handle the authorization code (on your redirect URI page)
if (isset($_GET['code'])) {
$code = $_GET['code'];
// Step 3: Exchange the code for an access token
$ch = curl_init('https://example.com/api/token.php');
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
curl_setopt($ch, CURLOPT_POST, true);
curl_setopt($ch, CURLOPT_POSTFIELDS, http_build_query([
'code' => $code,
'client_id' => 'YOUR_CLIENT_ID',
'client_secret' => 'YOUR_CLIENT_SECRET'
]));
$response = curl_exec($ch);
curl_close($ch);
$tokenData = json_decode($response, true);
$accessToken = $tokenData['access_token'];
// Step 4: Use the access token to make API requests
$ch = curl_init('https://example.com/api/userinfo.php');
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
curl_setopt($ch, CURLOPT_HTTPHEADER, [
'Authorization: Bearer ' . $accessToken
]);
$userData = curl_exec($ch);
curl_close($ch);
// Process user data
$user = json_decode($userData, true);
echo "Hello, " . $user['username'];
}
?>
