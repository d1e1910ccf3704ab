"""`etiquette review`: a local web app to listen to each finding, decide on it, and learn from the decisions.

    library.py  the results database as the app reads and writes it (and what it says when it cannot)
    listing.py  the calls table: filters, sorting and pages, done by the database
    media.py    the recordings the database lists, checked, and converted when a browser cannot play them
    security.py the Host check, the access token, the CSRF token and the pages' security policy
    app.py      the pages (Starlette), rendered from templates/ with autoescaping; static/ holds review.js
    server.py   binding the address, uvicorn, printing where the app is and opening the browser
"""
