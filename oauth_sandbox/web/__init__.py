"""Server-rendered pages: front page, login and consent."""
