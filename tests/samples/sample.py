import requests
from flask import Flask, request, redirect, session
import os
app = Flask(__name__)
app.secret_key = os.urandom(24)
# Configuration
CLIENT_ID = 'YOUR_CLIENT_ID'
CLIENT_SECRET = 'YOUR_CLIENT_SECRET'
REDIRECT_URI = 'YOUR_REDIRECT_URI'
AUTH_URL = 'https://example.com/api/authorize.php'
TOKEN_URL = 'https://example.com/api/token.php'
API_URL = 'https://example.com/api/userinfo.php'
@app.route('/login')
def login():
    # Step 1: Redirect user to authorization endpoint
    auth_params = {
        'client_id': CLIENT_ID,
        'redirect_uri': REDIRECT_URI,
        'response_type': 'code'
    }
    auth_url = f"{AUTH_URL}?{'&'.join(f'{k}={v}' for k, v in auth_params.items())}"
    return redirect(auth_url)
@app.route('/callback')
def callback():
    # Step 2: Handle the authorization code
    code = request.args.get('code')
    if code:
        # Step 3: Exchange the code for an access token
        token_data = {
            'code': code,
            'client_id': CLIENT_ID,
            'client_secret': CLIENT_SECRET
        }
        token_response = requests.post(TOKEN_URL, data=token_data)
        token_json = token_response.json()
        if 'access_token' in token_json:
            # Store the token in session
            session['access_token'] = token_json['access_token']
            # Step 4: Use the access token to make API requests
            return redirect('/profile')
    return "Authorization failed", 400
@app.route('/profile')
def profile():
    # Check if user is authenticated
    if 'access_token' not in session:
        return redirect('/login')
    # Make API request to get user info
    headers = {
        'Authorization': f"Bearer {session['access_token']}"
    }
    response = requests.get(API_URL, headers=headers)
    if response.status_code == 200:
        user_data = response.json()
        return f"Hello, {user_data['username']}! Your email is {user_data['email']}"
    else:
        session.pop('access_token', None)
        return redirect('/login')
if __name__ == '__main__':
    app.run(debug=True)
