<?php
// Step 1: Redirect user to authorization endpoint
$authUrl = 'https://example.com/api/authorize.php?' . http_build_query([
'client_id' => 'YOUR_CLIENT_ID',
'redirect_uri' => 'YOUR_REDIRECT_URI',
'response_type' => 'code'
]);
header("Location: $authUrl");
exit;
