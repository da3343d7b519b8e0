"""Charts drawn on the server as SVG: no script, readable without JavaScript, printable."""
