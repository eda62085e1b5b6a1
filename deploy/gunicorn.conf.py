"""gunicorn's settings for the web service (its command names the bind address and the workers).

An access log line per request on stdout, with the request id the portal returns (django-guid's
X-Request-ID), so that a line of the portal's own log and the request it served are found together.
"""

accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
