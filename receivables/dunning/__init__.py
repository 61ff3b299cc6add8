"""Dunning: the policy (levels, exceptions, message templates), the daily run and its outbox.

* ``policy``: the default policy every organization starts with, and the audited edits of it;
* ``run``: the daily run, set-based and chunked by customer, exactly once per invoice and level;
* ``outbox``: sending the run's messages after commit, each at most once once marked sent;
* ``messages``: rendering a customer's message from its template (English or Chinese).
"""
