//===- HeadSelection.cpp - which query heads a layer keeps ----------------===//
//
// Part of the Microscale project.
//
// In grouped-query attention query head h reads kv head h / m, so a pruned
// layer must keep g whole groups of m' query heads each. For every such
// shape the best heads are easy to find (the m' most costly heads of each
// group, then the g groups whose kept heads cost most); which shape each
// layer takes is a small knapsack over layers, solved exactly by dynamic
// programming on the number of heads removed.
//
//===----------------------------------------------------------------------===//

#include "microscale/Prune/Prune.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <numeric>

using namespace mlir::microscale;
using namespace mlir::microscale::prune;

namespace {

/// A shape a layer can be pruned to: `groups` kv groups of `perGroup` query
/// heads, removing `removed` heads at `cost`.
struct Shape {
  int64_t groups = 0, perGroup = 0, removed = 0;
  double cost = std::numeric_limits<double>::infinity();
};

/// Indices of `values` by decreasing value, ties to the lower index.
std::vector<int64_t> byDecreasingValue(llvm::ArrayRef<double> values) {
  std::vector<int64_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return values[a] != values[b] ? values[a] > values[b] : a < b;
  });
  return order;
}

/// The kept heads of `layer` in the shape (groups, perGroup), ascending,
/// and the sum of their costs.
std::pair<std::vector<int64_t>, double>
keptHeads(const LayerHeads &layer, int64_t groups, int64_t perGroup) {
  const int64_t m = layer.queriesPerKvHead;
  std::vector<std::vector<int64_t>> bestOfGroup(layer.kvHeads);
  std::vector<double> groupValue(layer.kvHeads, 0.0);
  for (int64_t g = 0; g < layer.kvHeads; ++g) {
    std::vector<int64_t> order =
        byDecreasingValue(llvm::ArrayRef(layer.costs).slice(g * m, m));
    for (int64_t i = 0; i < perGroup; ++i) {
      bestOfGroup[g].push_back(g * m + order[i]);
      groupValue[g] += layer.costs[g * m + order[i]];
    }
  }
  std::vector<int64_t> groupOrder = byDecreasingValue(groupValue);
  std::vector<int64_t> kept;
  double value = 0.0;
  for (int64_t i = 0; i < groups; ++i) {
    int64_t g = groupOrder[i];
    kept.insert(kept.end(), bestOfGroup[g].begin(), bestOfGroup[g].end());
    value += groupValue[g];
  }
  std::sort(kept.begin(), kept.end());
  return {kept, value};
}

/// The cheapest shape of `layer` for each number of removed heads (index;
/// an infinite cost where no shape removes that many).
std::vector<Shape> cheapestShapes(const LayerHeads &layer) {
  const int64_t heads = layer.kvHeads * layer.queriesPerKvHead;
  assert(static_cast<int64_t>(layer.costs.size()) == heads);
  double total = std::accumulate(layer.costs.begin(), layer.costs.end(), 0.0);
  std::vector<Shape> shapes(heads);
  for (int64_t perGroup = 1; perGroup <= layer.queriesPerKvHead; ++perGroup)
    for (int64_t groups = 1; groups <= layer.kvHeads; ++groups) {
      int64_t removed = heads - groups * perGroup;
      double cost = total - keptHeads(layer, groups, perGroup).second;
      // Equal costs: the shape that keeps more kv groups (more of the
      // model) wins, as the loop visits it later.
      if (cost <= shapes[removed].cost)
        shapes[removed] = {groups, perGroup, removed, cost};
    }
  shapes[0] = {layer.kvHeads, layer.queriesPerKvHead, 0, 0.0};
  return shapes;
}

/// Among `reachable` counts, `target` itself, else the fewest above it,
/// else the most below it.
int64_t nearestReachable(const std::vector<bool> &reachable, int64_t target) {
  const int64_t size = reachable.size();
  for (int64_t r = std::max<int64_t>(target, 0); r < size; ++r)
    if (reachable[r])
      return r;
  for (int64_t r = std::min(target, size - 1); r >= 0; --r)
    if (reachable[r])
      return r;
  return 0;
}

} // namespace

std::vector<std::vector<int64_t>>
prune::cheapestKeptHeads(const LayerHeads &layer) {
  std::vector<std::vector<int64_t>> kept;
  for (const Shape &shape : cheapestShapes(layer))
    kept.push_back(shape.cost == std::numeric_limits<double>::infinity()
                       ? std::vector<int64_t>()
                       : keptHeads(layer, shape.groups, shape.perGroup).first);
  return kept;
}

std::vector<int64_t>
prune::allocateRemovals(llvm::ArrayRef<std::vector<double>> costs,
                        int64_t count) {
  // best[l][r]: least cost of removing r units from the first l layers;
  // choice[l][r]: how many of them layer l - 1 removes.
  const double inf = std::numeric_limits<double>::infinity();
  int64_t total = 0;
  for (const std::vector<double> &layer : costs)
    total += layer.size() - 1;
  std::vector<std::vector<double>> best(costs.size() + 1,
                                        std::vector<double>(total + 1, inf));
  std::vector<std::vector<int64_t>> choice(costs.size() + 1,
                                           std::vector<int64_t>(total + 1, -1));
  best[0][0] = 0.0;
  for (size_t l = 0; l < costs.size(); ++l)
    for (int64_t before = 0; before <= total; ++before) {
      if (best[l][before] == inf)
        continue;
      for (size_t removed = 0; removed < costs[l].size(); ++removed) {
        if (costs[l][removed] == inf)
          continue;
        int64_t after = before + removed;
        double cost = best[l][before] + costs[l][removed];
        if (cost < best[l + 1][after]) {
          best[l + 1][after] = cost;
          choice[l + 1][after] = removed;
        }
      }
    }
  std::vector<bool> reachable(total + 1);
  for (int64_t r = 0; r <= total; ++r)
    reachable[r] = best[costs.size()][r] != inf;
  int64_t remaining = nearestReachable(reachable, count);
  std::vector<int64_t> removals(costs.size());
  for (size_t l = costs.size(); l-- > 0;) {
    removals[l] = choice[l + 1][remaining];
    remaining -= removals[l];
  }
  return removals;
}

HeadSelection prune::selectHeadsGlobally(llvm::ArrayRef<LayerHeads> layers,
                                         int64_t count) {
  std::vector<std::vector<double>> costs;
  for (const LayerHeads &layer : layers) {
    costs.emplace_back();
    for (const Shape &shape : cheapestShapes(layer))
      costs.back().push_back(shape.cost);
  }
  std::vector<int64_t> removals = allocateRemovals(costs, count);
  HeadSelection selection;
  for (size_t l = 0; l < layers.size(); ++l)
    selection.push_back(cheapestKeptHeads(layers[l])[removals[l]]);
  return selection;
}

HeadSelection
prune::selectHeadsPerLayer(llvm::ArrayRef<LayerHeads> layers,
                           llvm::ArrayRef<int64_t> countPerLayer) {
  assert(layers.size() == countPerLayer.size());
  HeadSelection selection;
  for (size_t l = 0; l < layers.size(); ++l) {
    std::vector<std::vector<int64_t>> kept = cheapestKeptHeads(layers[l]);
    std::vector<bool> reachable(kept.size());
    for (size_t r = 0; r < kept.size(); ++r)
      reachable[r] = !kept[r].empty();
    selection.push_back(kept[nearestReachable(reachable, countPerLayer[l])]);
  }
  return selection;
}
