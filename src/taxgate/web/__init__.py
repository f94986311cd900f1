"""Server-rendered pages for staff: batches, a decision's "why", the review queue, the
audit head. They call the same service functions as the API and admit the same roles.
"""
