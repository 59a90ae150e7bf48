"""Read a live ``/metrics`` page into something tests can ask questions of."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass(frozen=True)
class Scrape:
    families: set[str]
    samples: list[Sample]

    def value(self, name: str, **labels: str) -> float:
        return _sum(self.samples, name, labels)

    def label_values(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name and label in s.labels}


def _sum(samples: Iterable[Sample], name: str, labels: dict[str, str]) -> float:
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def parse(text: str) -> Scrape:
    families = list(text_string_to_metric_families(text))
    return Scrape({f.name for f in families}, [s for f in families for s in f.samples])


async def scrape(base_url: str) -> Scrape:
    async with aiohttp.ClientSession() as session, session.get(base_url + "/metrics") as response:
        assert response.status == 200
        return parse(await response.text())
