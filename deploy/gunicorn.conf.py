"""gunicorn's settings for the web service (its command names the bind address and the workers).

An access log line per request on stdout, with the request id the portal returns (django-guid's
X-Request-ID), so that a line of the portal's own log and the request it served are found together.

Threads (gthread): a download that takes seconds (a year of readings to a phone on 4G) or a client
that reads slowly holds one thread, not a whole worker, so other people's pages are still served
(bench-web's fleet_home_p95_during_exports_ms). Each thread has its own database connection: 3
workers of 8 threads hold at most 24, well below PostgreSQL's default 100.
"""

worker_class = "gthread"
threads = 8

accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
