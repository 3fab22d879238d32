"""Storage under concurrency: a code redeemed by many clients at once gives exactly one token."""
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import requests

from helpers import PHP_CLIENT, obtain_code


def test_twenty_concurrent_redemptions_of_one_code_give_exactly_one_token(client, live_server):
    code = obtain_code(client)
    barrier = Barrier(20)

    def redeem(_):
        barrier.wait()
        response = requests.post(f"{live_server.url}/api/token.php", data={"code": code, **PHP_CLIENT}, timeout=60)
        return response.status_code, response.json()

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(redeem, range(20)))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [400] * 19, results
    assert all(body["error"] == "invalid_code" for status, body in results if status == 400)
