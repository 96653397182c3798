// Words shared by the offline pages.
export function beneficiaryName(order) {
  if (!order) return "Commande inconnue";
  const b = order.beneficiary || {};
  return b.fullName || [b.firstName, b.lastName].filter(Boolean).join(" ") || `Commande ${order.id}`;
}
